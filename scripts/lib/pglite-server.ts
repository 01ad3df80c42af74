/**
 * Serves a PGlite database over the Postgres wire protocol to many client connections.
 *
 * Why not PGLiteSocketServer (@electric-sql/pglite-socket 0.2.17) alone: it queues single protocol
 * messages and keeps a connection's messages together only inside an SQL transaction, so two
 * postgres.js connections sending Parse/Bind/Execute/Sync at the same time interleave on PGlite's
 * one backend and bind each other's unnamed statement ("bind message supplies 4 parameters, but
 * prepared statement "" requires 0"); a throw inside its queue then stalls every connection
 * (electric-sql/pglite#1046, #977). Here:
 * - a connection owns the backend for a whole protocol exchange (up to Sync, a simple Query,
 *   Flush or CopyDone/CopyFail) and keeps it while its SQL transaction is open, and after a
 *   Flush until its Sync (postgres.js describes a statement, Parse/Describe/Flush, before it binds
 *   it: the implicit transaction the Parse began is still open, and another connection's
 *   statements must not run inside it; a BEGIN with an isolation level there can be refused, "SET
 *   TRANSACTION ISOLATION LEVEL must be called before any query", the console's intermittent
 *   500 in CI);
 *   everyone else waits their turn. One transaction at a time: correct, and serial, like PGlite
 *   itself;
 * - prepared statements are per connection, as on a real server: statement names in Parse, Bind,
 *   Describe and Close are prefixed with the connection's id, so postgres.js's describe-then-bind
 *   of the unnamed statement (two exchanges) and pgx's cached statement names cannot collide;
 * - PGlite itself lets any user in as superuser, with any password (even a NOLOGIN role), so the
 *   server authenticates first: only the documented `postgres` user with password `postgres`
 *   (cleartext over 127.0.0.1), anyone else refused with the error PostgreSQL itself sends.
 *
 * Runs on Node and Deno (node:net only).
 */
import { createServer, type Server, type Socket } from "node:net";
import type { PGlite } from "@electric-sql/pglite";

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
/** Frontend message types after which the client waits for an answer. */
const EXCHANGE_END = new Set(["S", "Q", "H", "c", "f"]);

/** The one login the embedded database accepts (what `npm start` prints and the docs give). */
export const PGLITE_USER = "postgres";
export const PGLITE_PASSWORD = "postgres";
const PGLITE_DATABASE = "postgres";

export interface PGliteServer {
  /** postgres:// URL (sslmode=disable) for clients such as postgres.js and the Supabase CLI. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startPGliteServer(
  db: PGlite,
  opts: { port?: number; host?: string } = {},
): Promise<PGliteServer> {
  await db.waitReady;
  const host = opts.host ?? "127.0.0.1";
  const backend = new Backend(db);
  const connections = new Set<Connection>();
  const server: Server = createServer((socket) => {
    const conn = new Connection(socket, backend);
    connections.add(conn);
    conn.finished.then(() => connections.delete(conn));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address !== "object") throw new Error("no listening address");
  const port = address.port;

  return {
    url:
      `postgres://${PGLITE_USER}:${PGLITE_PASSWORD}@${host}:${port}/${PGLITE_DATABASE}?sslmode=disable`,
    port,
    async stop() {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      // Wait for each connection's clean-up: it still talks to `db`, which the caller closes next.
      const finished = [...connections].map((conn) => conn.finished);
      for (const conn of connections) conn.destroy();
      await Promise.all([closing, ...finished]);
    },
  };
}

/** The single PGlite backend, lent to one connection at a time. */
class Backend {
  private owner: Connection | null = null;
  private waiting: Array<{ conn: Connection; grant: () => void }> = [];

  constructor(readonly db: PGlite) {}

  async acquire(conn: Connection): Promise<void> {
    if (this.owner === conn) return;
    if (this.owner === null) {
      this.owner = conn;
      return;
    }
    await new Promise<void>((grant) => this.waiting.push({ conn, grant }));
  }

  /**
   * Gives the backend up unless the owner is inside a transaction or mid-exchange (`open`: its
   * exchange ended with a Flush, not a Sync, so the implicit transaction its Parse began is still
   * open), or `force`, on disconnect.
   */
  async release(conn: Connection, force = false, open = false): Promise<void> {
    if (this.owner !== conn) return;
    if (open && !force) return;
    if (this.db.isInTransaction()) {
      if (!force) return;
      await this.db.exec("rollback").catch(() => {});
    }
    const next = this.waiting.shift();
    this.owner = next?.conn ?? null;
    next?.grant();
  }

  /** Runs protocol messages back to back, passing PGlite's answers on as they come. */
  async run(messages: Uint8Array[], write: (data: Uint8Array) => void): Promise<void> {
    // runExclusive also keeps in-process users of `db` out of the middle of the exchange.
    await this.db.runExclusive(async () => {
      for (const message of messages) {
        await this.db.execProtocolRawStream(message, { onRawData: (data) => write(data.slice()) });
      }
    });
  }
}

let nextConnectionId = 1;

class Connection {
  private readonly id = nextConnectionId++;
  private readonly statements = new Set<string>();
  private buffer = new Uint8Array(0);
  private started = false;
  /** The startup message, held until the password is checked (then PGlite answers it). */
  private awaitingPassword: Uint8Array | null = null;
  private pending: Uint8Array[] = [];
  private pendingCloses = 0;
  /** CloseComplete answers still to drop in the exchange being run. */
  private injectedCloses = 0;
  private replyBuffer = new Uint8Array(0);
  private work: Promise<void> = Promise.resolve();
  private closed = false;

  /** Settles once the socket closed and the clean-up ran. */
  readonly finished: Promise<void>;

  constructor(private readonly socket: Socket, private readonly backend: Backend) {
    socket.setNoDelay(true);
    socket.on("data", (data: Uint8Array) => this.receive(data));
    socket.on("error", () => socket.destroy());
    this.finished = new Promise((resolve) => {
      socket.on("close", () => {
        this.closed = true;
        this.work = this.work.then(() => this.cleanUp()).finally(resolve);
      });
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  private receive(data: Uint8Array): void {
    const joined = new Uint8Array(this.buffer.length + data.length);
    joined.set(this.buffer);
    joined.set(data, this.buffer.length);
    this.buffer = joined;

    for (;;) {
      if (!this.started) {
        const startup = this.nextStartupMessage();
        if (startup === null) return;
        if (startup === "handled") continue;
        this.started = true;
        const refusal = refuseStartup(startup);
        if (refusal) return this.fatal(...refusal);
        this.awaitingPassword = startup;
        this.socket.write(frame("R", int32(3))); // AuthenticationCleartextPassword
        continue;
      }
      const message = this.nextTypedMessage();
      if (message === null) return;
      const type = String.fromCharCode(message[0]);
      if (this.awaitingPassword) {
        const startup = this.awaitingPassword;
        this.awaitingPassword = null;
        const password = type === "p" ? readCString(message.subarray(5), 0)[0] : null;
        if (password !== PGLITE_PASSWORD) {
          return this.fatal("28P01", `password authentication failed for user "${PGLITE_USER}"`);
        }
        this.pending.push(startup);
        this.flushExchange();
        continue;
      }
      if (type === "X") {
        this.socket.end();
        return;
      }
      this.pending.push(...this.isolate(message));
      if (EXCHANGE_END.has(type)) this.flushExchange(type === "H");
    }
  }

  /** Answers a FATAL ErrorResponse, as PostgreSQL does for a refused login, and hangs up. */
  private fatal(code: string, message: string): void {
    this.buffer = new Uint8Array(0);
    const fields = ["SFATAL", "VFATAL", `C${code}`, `M${message}`].map(cstring);
    this.socket.end(frame("E", concat(...fields, new Uint8Array([0]))));
  }

  /** Untyped first messages: SSL/GSS negotiation (declined), cancel (unsupported), startup. */
  private nextStartupMessage(): Uint8Array | "handled" | null {
    if (this.buffer.length < 8) return null;
    const view = new DataView(this.buffer.buffer, this.buffer.byteOffset);
    const length = view.getInt32(0);
    if (this.buffer.length < length) return null;
    const code = view.getInt32(4);
    const message = this.buffer.slice(0, length);
    this.buffer = this.buffer.slice(length);
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
      this.socket.write(new Uint8Array([0x4e])); // 'N': continue unencrypted
      return "handled";
    }
    if (code === CANCEL_REQUEST) {
      this.socket.end();
      return "handled";
    }
    return message;
  }

  private nextTypedMessage(): Uint8Array | null {
    if (this.buffer.length < 5) return null;
    const view = new DataView(this.buffer.buffer, this.buffer.byteOffset);
    const length = 1 + view.getInt32(1);
    if (this.buffer.length < length) return null;
    const message = this.buffer.slice(0, length);
    this.buffer = this.buffer.slice(length);
    return message;
  }

  /**
   * Queues the messages received so far as one exchange, run in arrival order. `open`: it ends
   * with a Flush, and the client's next exchange (up to its Sync) belongs with it.
   */
  private flushExchange(open = false): void {
    const exchange = this.pending;
    const injectedCloses = this.pendingCloses;
    this.pending = [];
    this.pendingCloses = 0;
    this.work = this.work.then(() => this.runExchange(exchange, injectedCloses, open));
  }

  private async runExchange(
    exchange: Uint8Array[],
    injectedCloses: number,
    open: boolean,
  ): Promise<void> {
    if (this.closed) return;
    await this.backend.acquire(this);
    // After an error the backend skips to Sync, injected Closes included; whatever was not
    // answered by the end of the exchange never will be.
    this.injectedCloses = injectedCloses;
    try {
      await this.backend.run(exchange, (data) => {
        if (this.closed) return;
        // The injected Close before a Parse answers CloseComplete; the client did not ask.
        if (data.length > 0) this.socket.write(this.dropInjectedReplies(data));
      });
    } catch {
      this.socket.destroy();
    } finally {
      this.injectedCloses = 0;
      await this.backend.release(this, this.closed, open);
    }
  }

  /** On disconnect: roll back an open transaction and drop this connection's statements. */
  private async cleanUp(): Promise<void> {
    await this.backend.acquire(this);
    try {
      const closes = [...this.statements].map((name) => closeStatement(name));
      await this.backend.run(closes, () => {}).catch(() => {});
    } finally {
      await this.backend.release(this, true);
    }
  }

  private statementName(clientName: string): string {
    const name = `pglite_c${this.id}_${clientName}`;
    this.statements.add(name);
    return name;
  }

  /**
   * Rewrites statement names to this connection's own. A Parse of a statement that may exist is
   * preceded by a Close of it, so re-parsing the unnamed statement works as on a real backend.
   */
  private isolate(message: Uint8Array): Uint8Array[] {
    const type = String.fromCharCode(message[0]);
    const body = message.subarray(5);
    if (type === "P" || type === "B") {
      const [first, afterFirst] = readCString(body, 0);
      if (type === "P") {
        const name = this.statementName(first);
        this.pendingCloses++;
        return [closeStatement(name), frame("P", concat(cstring(name), body.subarray(afterFirst)))];
      }
      const [statement, afterStatement] = readCString(body, afterFirst);
      return [frame(
        "B",
        concat(
          cstring(first),
          cstring(this.statementName(statement)),
          body.subarray(afterStatement),
        ),
      )];
    }
    if ((type === "D" || type === "C") && body[0] === 0x53 /* 'S' */) {
      const [statement] = readCString(body, 1);
      return [frame(type, concat(new Uint8Array([0x53]), cstring(this.statementName(statement))))];
    }
    return [message];
  }

  /**
   * Removes one CloseComplete ('3') per injected Close from the backend's answers. Answers come
   * in whole messages per onRawData call in PGlite, but a partial tail is kept to be safe.
   */
  private dropInjectedReplies(data: Uint8Array): Uint8Array {
    if (this.injectedCloses === 0 && this.replyBuffer.length === 0) return data;
    const input = concat(this.replyBuffer, data);
    const out: Uint8Array[] = [];
    let offset = 0;
    while (offset + 5 <= input.length) {
      const length = 1 + new DataView(input.buffer, input.byteOffset + offset + 1, 4).getInt32(0);
      if (offset + length > input.length) break;
      if (input[offset] === 0x33 /* '3' */ && this.injectedCloses > 0) this.injectedCloses--;
      else out.push(input.subarray(offset, offset + length));
      offset += length;
    }
    this.replyBuffer = input.slice(offset);
    return concat(...out);
  }
}

/**
 * The refusal PostgreSQL sends for a startup packet naming another user or database, or none:
 * any other user fails as a wrong password would (28P01, saying nothing of which roles exist),
 * before a password is even asked for.
 */
function refuseStartup(startup: Uint8Array): [string, string] | null {
  const params = new Map<string, string>();
  let offset = 8; // length, protocol version
  while (offset < startup.length && startup[offset] !== 0) {
    const [key, afterKey] = readCString(startup, offset);
    const [value, afterValue] = readCString(startup, afterKey);
    if (afterKey === 0 || afterValue === 0) break; // unterminated: no user, refused below
    params.set(key, value);
    offset = afterValue;
  }
  const user = params.get("user");
  if (!user) return ["28000", "no PostgreSQL user name specified in startup packet"];
  if (user !== PGLITE_USER) return ["28P01", `password authentication failed for user "${user}"`];
  const database = params.get("database") || user;
  if (database !== PGLITE_DATABASE) return ["3D000", `database "${database}" does not exist`];
  return null;
}

function int32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, n);
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function cstring(text: string): Uint8Array {
  return concat(encoder.encode(text), new Uint8Array([0]));
}

function readCString(bytes: Uint8Array, offset: number): [string, number] {
  const end = bytes.indexOf(0, offset);
  return [decoder.decode(bytes.subarray(offset, end)), end + 1];
}

function frame(type: string, body: Uint8Array): Uint8Array {
  const message = new Uint8Array(5 + body.length);
  message[0] = type.charCodeAt(0);
  new DataView(message.buffer).setInt32(1, 4 + body.length);
  message.set(body, 5);
  return message;
}

function closeStatement(name: string): Uint8Array {
  return frame("C", concat(new Uint8Array([0x53]), cstring(name)));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
