import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scheduleJobs, startHousekeeping } from "../../scripts/stack/housekeeping.ts";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";

describe("scheduleJobs", () => {
  it("computes the next run of 5-field schedules in UTC, and skips what it cannot parse", () => {
    const lines: string[] = [];
    const h = scheduleJobs(
      [
        { name: "every-5", schedule: "*/5 * * * *", command: "select 1" },
        { name: "lists", schedule: "0,30 9-17 * * 1-5", command: "select 1" },
        { name: "seconds", schedule: "30 seconds", command: "select 1" },
      ],
      () => Promise.resolve(),
      (l) => lines.push(l),
    );
    try {
      expect(h.jobs.map((j) => j.name)).toEqual(["every-5", "lists"]);
      const every5 = h.jobs[0].nextRun!;
      expect(every5.getUTCMinutes() % 5).toBe(0);
      expect(every5.getUTCSeconds()).toBe(0);
      expect(every5.getTime() - Date.now()).toBeLessThanOrEqual(5 * 60_000);
      const lists = h.jobs[1].nextRun!;
      expect([0, 30]).toContain(lists.getUTCMinutes());
      expect(lists.getUTCHours()).toBeGreaterThanOrEqual(9);
      expect(lists.getUTCHours()).toBeLessThanOrEqual(17);
      expect([1, 2, 3, 4, 5]).toContain(lists.getUTCDay());
      expect(lines.join("\n")).toMatch(
        /seconds: schedule "30 seconds" is not 5-field cron, skipped/,
      );
    } finally {
      h.stop();
    }
  });
});

describe("startHousekeeping", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.close());

  it("runs public.scheduled_jobs itself when the database has no pg_cron, logging each run", async () => {
    const lines: string[] = [];
    await db.sql`
      insert into public.profiles (phone_number) values ('+250788000001')`;
    const [{ id: profileId }] = await db
      .sql`select id from public.profiles where phone_number = '+250788000001'`;
    await db.sql`
      insert into public.omnichannel_sessions (profile_id, status, expires_at)
      values (${profileId}, 'active', now() - interval '1 hour')`;

    const h = await startHousekeeping(db.sql, (l) => lines.push(l));
    try {
      expect(h.mode).toBe("local");
      const cleanup = h.jobs.find((j) => j.name === "omnichannel-cleanup-expired-sessions");
      expect(cleanup?.schedule).toBe("*/5 * * * *");
      const run = await h.run("omnichannel-cleanup-expired-sessions");
      expect(run.ok).toBe(true);
      const [session] = await db.sql`
        select status from public.omnichannel_sessions where profile_id = ${profileId}`;
      expect(session.status).toBe("closed");
      expect(lines.join("\n")).toMatch(
        /\[cron\] omnichannel-cleanup-expired-sessions ran in \d+ ms/,
      );
    } finally {
      h.stop();
    }
  });

  it("reports a failing command without stopping the others", async () => {
    const lines: string[] = [];
    const h = scheduleJobs(
      [{ name: "broken", schedule: "* * * * *", command: "select nope" }],
      (command) => db.sql.unsafe(command),
      (l) => lines.push(l),
    );
    try {
      const run = await h.run("broken");
      expect(run.ok).toBe(false);
      expect(lines[0]).toMatch(/\[cron\] broken failed after \d+ ms: column "nope" does not exist/);
    } finally {
      h.stop();
    }
  });
});
