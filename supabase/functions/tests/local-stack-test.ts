/**
 * Deno tier: what `npm start` promises about itself — a taken port is named before anything
 * starts, and the embedded database keeps its data across a stop and a start.
 */
import { runtimeOnly } from "../../../scripts/stack/function-env.ts";
import { freePorts, PortInUseError } from "../../../scripts/stack/ports.ts";
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
      if (!lines.some((l) => l.includes("migrations: up to date (all recorded in supabase_migrations"))) {
        throw new Error(`expected the restart to skip the CLI, nothing being pending:\n${lines.join("\n")}`);
      }
    } finally {
      await second.stop();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
