import { PGlite } from "@electric-sql/pglite";
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
