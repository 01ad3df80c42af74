/**
 * vitest globalSetup of the db and e2e tiers: migrates one template database for the whole run
 * (tests/support/db.ts clones it for every test file) and removes it when the run ends, so no
 * template is left behind on the PostgreSQL server or in the temp directory.
 */
import type { TestProject } from "vitest/node";
import { buildTemplate } from "./db.ts";

type Built = Awaited<ReturnType<typeof buildTemplate>>;

// Both tiers' setups run in the vitest main process, each project loading this module anew:
// the run's one template is kept on globalThis so a full run builds it once.
const shared = globalThis as { omniTestTemplate?: Promise<Built> };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Keyed by the main process: another run of the suite (another checkout) builds its own.
  shared.omniTestTemplate ??= buildTemplate(process.pid);
  const { template, remove } = await shared.omniTestTemplate;
  project.provide("dbTemplate", template);
  return remove; // idempotent: the second tier's teardown finds it gone
}
