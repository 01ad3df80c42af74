/**
 * Deno tier: what `npm start` promises about itself — a taken port is named before anything
 * starts, the embedded database keeps its data across a stop and a start, nothing listens
 * beyond 127.0.0.1, and real provider credentials need a JWT secret of the project's own.
 */
import { runtimeOnly } from "../../../scripts/stack/function-env.ts";
import { LOCAL_JWT_SECRET } from "../../../scripts/stack/jwt.ts";
import { freePorts, PortInUseError } from "../../../scripts/stack/ports.ts";
import { PublicSecretError } from "../../../scripts/stack/secret-guard.ts";
import { startStack } from "../../../scripts/stack/stack.ts";
import { createSql } from "../_shared/db/client.ts";

const quietStack = (options: Parameters<typeof startStack>[0]) =>
  startStack({
    env: runtimeOnly(Deno.env.toObject()),
    dotenv: false,
    only: [],
    quiet: true,
    ...options,
  });

Deno.test("a taken port stops the start, naming the port and the process that holds it", async () => {
  const ports = freePorts();
  const blocker = Deno.listen({ hostname: "127.0.0.1", port: ports.console });
  try {
    let error: unknown;
    await quietStack({ ports, dataDir: "memory://" }).catch((err) => (error = err));
    if (!(error instanceof PortInUseError)) {
      throw new Error(`expected PortInUseError, got ${error}`);
    }
    if (
      !error.message.includes(
        `port ${ports.console} (console) is already in use by pid ${Deno.pid}`,
      )
    ) {
      throw new Error(`unexpected message: ${error.message}`);
    }
  } finally {
    blocker.close();
  }
});

Deno.test("the embedded database keeps its data across a stop and a start", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "omni-stack-" });
  try {
    const first = await quietStack({ ports: freePorts(), dataDir });
    const sql = createSql(first.urls.db, { max: 1 });
    await sql`insert into public.profiles (phone_number) values ('+250788000777')`;
    await sql.end();
    await first.stop();

    const lines: string[] = [];
    const second = await startStack({
      ports: freePorts(),
      dataDir,
      env: runtimeOnly(Deno.env.toObject()),
      dotenv: false,
      only: [],
      log: (line) => lines.push(line),
    });
    try {
      const again = createSql(second.urls.db, { max: 1 });
      const rows = await again`select 1 from public.profiles where phone_number = '+250788000777'`;
      await again.end();
      if (rows.length !== 1) throw new Error("the profile written before the restart is gone");
      if (
        !lines.some((l) =>
          l.includes("migrations: up to date (all recorded in supabase_migrations")
        )
      ) {
        throw new Error(
          `expected the restart to skip the CLI, nothing being pending:\n${lines.join("\n")}`,
        );
      }
    } finally {
      await second.stop();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

/** The TCP addresses `pid` listens on, from /proc (Linux): its socket inodes, matched in net/tcp*. */
function listeningAddresses(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of Deno.readDirSync(`/proc/${pid}/fd`)) {
    const target = (() => {
      try {
        return Deno.readLinkSync(`/proc/${pid}/fd/${fd.name}`);
      } catch {
        return ""; // closed meanwhile
      }
    })();
    const m = target.match(/^socket:\[(\d+)\]$/);
    if (m) inodes.add(m[1]);
  }
  const out: string[] = [];
  for (const file of ["tcp", "tcp6"]) {
    for (const line of Deno.readTextFileSync(`/proc/${pid}/net/${file}`).split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== "0A" || !inodes.has(f[9])) continue; // 0A: LISTEN
      const [hex, port] = f[1].split(":");
      const address = file === "tcp"
        ? hex.match(/../g)!.reverse().map((b) => parseInt(b, 16)).join(".")
        : hex === "00000000000000000000000001000000"
        ? "::1"
        : `[${hex}]`;
      out.push(`${address}:${parseInt(port, 16)}`);
    }
  }
  return out;
}

const LOOPBACK = /^(127\.0\.0\.1|::1):\d+$/;

Deno.test({
  name: "every process of the stack listens on 127.0.0.1 only, and no function prints its port",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const lines: string[] = [];
    const stack = await startStack({
      ports: freePorts(),
      dataDir: "memory://",
      env: runtimeOnly(Deno.env.toObject()),
      dotenv: false,
      only: ["health"],
      log: (line) => lines.push(line),
    });
    try {
      const health = await fetch(`${stack.urls.functions}/health`);
      await health.body?.cancel();
      const pids = stack.pids();
      if (pids.length !== 1) throw new Error(`expected the health process, got ${pids}`);
      for (const pid of [Deno.pid, ...pids, stack.sandboxPid()!]) {
        const addresses = listeningAddresses(pid);
        if (addresses.length === 0) throw new Error(`pid ${pid} listens on nothing`);
        const open = addresses.filter((a) => !LOOPBACK.test(a));
        if (open.length) throw new Error(`pid ${pid} listens beyond loopback: ${open.join(", ")}`);
      }
      const printed = lines.filter((l) => /listening on/i.test(l));
      if (printed.length) throw new Error(`a function printed its internal port: ${printed}`);
    } finally {
      await stack.stop();
    }
  },
});

Deno.test({
  name: "the provider sandbox runs in its own process, not the gateway's, and stops with the stack",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const ports = freePorts();
    const stack = await quietStack({ ports, dataDir: "memory://" });
    let pid: number | undefined;
    try {
      pid = stack.sandboxPid();
      if (!pid || pid === Deno.pid) throw new Error(`the sandbox runs in pid ${pid}`);
      const own = listeningAddresses(pid);
      if (!own.includes(`127.0.0.1:${ports.sandbox}`)) {
        throw new Error(`the sandbox's process listens on ${own}, not ${ports.sandbox}`);
      }
      const stacks = listeningAddresses(Deno.pid);
      if (stacks.some((a) => a.endsWith(`:${ports.sandbox}`))) {
        throw new Error(`the stack's own process still serves the sandbox: ${stacks}`);
      }
      if (!stacks.includes(`127.0.0.1:${ports.functions}`)) {
        throw new Error(`the gateway is not in the stack's process: ${stacks}`);
      }
      // Steered over its control API, as the tests and the CLI do.
      const settings = await stack.sandbox.settings({ status_callbacks: false });
      if (settings.status_callbacks !== false) throw new Error(JSON.stringify(settings));
      const messages = await stack.sandbox.messages({});
      if (messages.length !== 0) throw new Error(`a fresh sandbox holds ${messages.length}`);
    } finally {
      await stack.stop();
    }
    const alive = await Deno.stat(`/proc/${pid}`).then(() => true, () => false);
    if (alive) throw new Error(`the sandbox (pid ${pid}) outlived the stack`);
    Deno.listen({ hostname: "127.0.0.1", port: ports.sandbox }).close();
  },
});

Deno.test("real provider credentials with the public local JWT secret stop the start", async () => {
  const whatsapp = { WHATSAPP_ACCESS_TOKEN: "EAAG-real-looking", WHATSAPP_PHONE_NUMBER_ID: "1234" };
  const env = { ...runtimeOnly(Deno.env.toObject()), ...whatsapp };
  let error: unknown;
  await quietStack({ ports: freePorts(), dataDir: "memory://", env }).catch((err) => (error = err));
  if (!(error instanceof PublicSecretError) || !error.message.includes("SUPABASE_JWT_SECRET")) {
    throw new Error(`expected PublicSecretError naming SUPABASE_JWT_SECRET, got ${error}`);
  }
  if (error.message.includes("\n")) throw new Error("the refusal is not one line");

  const own = { ...env, SUPABASE_JWT_SECRET: "a-secret-of-this-project-only-0123456789" };
  const stack = await quietStack({ ports: freePorts(), dataDir: "memory://", env: own });
  try {
    if (stack.jwtSecret === LOCAL_JWT_SECRET) throw new Error("the stack kept the public secret");
  } finally {
    await stack.stop();
  }
});
