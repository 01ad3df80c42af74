import { PGlite } from "@electric-sql/pglite";
import { connect } from "node:net";
import { Buffer } from "node:buffer";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PGliteServer, startPGliteServer } from "../../scripts/lib/pglite-server.ts";

let db: PGlite;
let server: PGliteServer;

beforeAll(async () => {
  db = await PGlite.create();
  await db.exec("create table items (id int primary key, label text)");
  server = await startPGliteServer(db);
});
afterAll(async () => {
  await server?.stop();
  await db?.close();
});

const client = (max: number) => postgres(server.url, { prepare: false, max, onnotice: () => {} });

describe("PGlite wire server", () => {
  it("keeps concurrent connections' parameterized queries apart", async () => {
    const sql = client(10);
    try {
      // Different parameter counts: an interleaved Parse/Bind fails loudly ("bind message
      // supplies N parameters") or returns another query's rows.
      const results = await Promise.all(
        Array.from(
          { length: 30 },
          (_, i) =>
            i % 2
              ? sql`select ${i}::int as a, ${`x${i}`}::text as b`.then(([r]) => [r.a, r.b])
              : sql`select ${i}::int as a`.then(([r]) => [r.a]),
        ),
      );
      results.forEach((r, i) => expect(r).toEqual(i % 2 ? [i, `x${i}`] : [i]));
    } finally {
      await sql.end();
    }
  });

  it("runs one transaction at a time: others wait, then see only what was committed", async () => {
    const sql = client(2);
    try {
      const order: string[] = [];
      const tx = sql.begin(async (t) => {
        await t`insert into items values (1, 'in tx')`;
        await new Promise((r) => setTimeout(r, 100));
        order.push("commit");
      });
      await new Promise((r) => setTimeout(r, 20));
      const read = sql`select label from items where id = 1`.then((rows) => {
        order.push("read");
        return rows;
      });
      await tx;
      expect(await read).toEqual([{ label: "in tx" }]);
      expect(order).toEqual(["commit", "read"]);
    } finally {
      await sql.end();
    }
  });

  it("rolls back a client that disconnects inside a transaction and serves the next one", async () => {
    const doomed = client(1);
    const reserved = await doomed.reserve();
    await reserved`begin`;
    await reserved`insert into items values (2, 'never committed')`;
    await doomed.end({ timeout: 0 });

    const sql = client(1);
    try {
      expect(await sql`select label from items where id = 2`).toEqual([]);
    } finally {
      await sql.end();
    }
  });
});

/**
 * A client speaking the extended protocol by hand: postgres.js describes a statement in an
 * exchange of its own (Parse, Describe, Flush) before it binds and executes it, so the exchange
 * ends without a Sync.
 */
async function rawClient(url: string) {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  await new Promise<void>((resolve, reject) =>
    socket.once("connect", resolve).once("error", reject)
  );
  let received = Buffer.alloc(0);
  const waiters: Array<() => void> = [];
  socket.on("data", (d: Buffer) => {
    received = Buffer.concat([received, d]);
    waiters.splice(0).forEach((w) => w());
  });
  const cstr = (t: string) => Buffer.concat([Buffer.from(t, "utf8"), Buffer.from([0])]);
  const msg = (type: string, ...parts: Buffer[]) => {
    const body = Buffer.concat(parts);
    const head = Buffer.alloc(5);
    head.write(type, 0);
    head.writeInt32BE(body.length + 4, 1);
    return Buffer.concat([head, body]);
  };
  const int16 = (n: number) => {
    const b = Buffer.alloc(2);
    b.writeInt16BE(n);
    return b;
  };
  /** Waits until a message of `type` has arrived, and drops everything up to and including it. */
  const until = async (type: string) => {
    for (;;) {
      let offset = 0;
      while (offset + 5 <= received.length) {
        const length = 1 + received.readInt32BE(offset + 1);
        if (offset + length > received.length) break;
        const t = String.fromCharCode(received[offset]);
        offset += length;
        if (t === "E") throw new Error(`error from the server: ${received.subarray(0, offset)}`);
        if (t === type) {
          received = received.subarray(offset);
          return;
        }
      }
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  const startup = Buffer.concat([
    Buffer.from([0, 3, 0, 0]),
    cstr("user"),
    cstr("postgres"),
    cstr("database"),
    cstr("postgres"),
    Buffer.from([0]),
  ]);
  const len = Buffer.alloc(4);
  len.writeInt32BE(startup.length + 4);
  socket.write(Buffer.concat([len, startup]));
  await until("R");
  socket.write(msg("p", cstr("postgres")));
  await until("Z");
  return {
    /** Parse and Describe a query that reads a table (its analysis takes a snapshot), then Flush. */
    async describe(query: string) {
      socket.write(Buffer.concat([
        msg("P", cstr(""), cstr(query), int16(0)),
        msg("D", Buffer.from("S"), cstr("")),
        msg("H"),
      ]));
      await until("T");
    },
    /** Bind and Execute the described statement, then Sync. */
    async execute() {
      socket.write(Buffer.concat([
        msg("B", cstr(""), cstr(""), int16(0), int16(0), int16(0)),
        msg("E", cstr(""), Buffer.alloc(4)),
        msg("S"),
      ]));
      await until("Z");
    },
    close: () => socket.destroy(),
  };
}

describe("PGlite wire server, a statement described before it is run", () => {
  it("keeps the backend for that connection until its Sync: no other transaction starts in between", async () => {
    const raw = await rawClient(server.url);
    const sql = client(1);
    try {
      await raw.describe("select count(*) from items");
      // Another connection's read-only transaction, as the console opens one per request, waits
      // for that Sync. Before, it ran at once, inside the implicit transaction the Parse had left
      // open (where a BEGIN with an isolation level can be refused: "SET TRANSACTION ISOLATION
      // LEVEL must be called before any query", the console's intermittent 500 in CI).
      let failure: string | null = null;
      const other = sql.begin(
        "isolation level repeatable read read only",
        (t) => t`select label from items order by id`,
      ).catch((err: Error) => {
        failure = err.message;
        throw err;
      });
      let settled = false;
      other.then(() => (settled = true), () => (settled = true));
      await new Promise((r) => setTimeout(r, 100));
      expect({ settled, failure }).toEqual({ settled: false, failure: null });
      await raw.execute();
      await expect(other).resolves.toBeDefined();
    } finally {
      raw.close();
      await sql.end();
    }
  });
});

describe("PGlite wire server logins", () => {
  /** The error a login as `user`/`password` (to `database`) gets, or "ok". */
  async function login(user: string, password: string, database = "postgres") {
    const url = new URL(server.url);
    const sql = postgres({
      host: url.hostname,
      port: Number(url.port),
      user,
      password,
      database,
      max: 1,
      connect_timeout: 5,
      onnotice: () => {},
    });
    try {
      const [row] = await sql`select current_user as who`;
      return `ok as ${row.who}`;
    } catch (err) {
      const e = err as { code?: string; message?: string; severity?: string };
      return { code: e.code, message: e.message, severity: e.severity };
    } finally {
      await sql.end({ timeout: 1 });
    }
  }

  it("accepts the documented postgres user and password", async () => {
    expect(await login("postgres", "postgres")).toBe("ok as postgres");
  });

  it("refuses a wrong password with PostgreSQL's own error", async () => {
    expect(await login("postgres", "wrong")).toEqual({
      code: "28P01",
      severity: "FATAL",
      message: 'password authentication failed for user "postgres"',
    });
  });

  it("refuses any other user, existing (with its own password) or NOLOGIN", async () => {
    await db.exec("create role locked nologin; create role app_user login password 'app'");
    for (const user of ["locked", "app_user", "nobody", "service_role"]) {
      expect(await login(user, user === "app_user" ? "app" : "postgres")).toEqual({
        code: "28P01",
        severity: "FATAL",
        message: `password authentication failed for user "${user}"`,
      });
    }
  });

  it("refuses a database other than postgres as PostgreSQL does", async () => {
    expect(await login("postgres", "postgres", "other")).toMatchObject({
      code: "3D000",
      message: 'database "other" does not exist',
    });
  });
});
