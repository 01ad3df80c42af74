/**
 * vitest globalSetup of the db and e2e tiers: migrates one template database for the whole run
 * (tests/support/db.ts clones it for every test file) and removes it when the run ends, so no
 * template is left behind on the PostgreSQL server or in the temp directory.
 */
import type { TestProject } from "vitest/node";
import { buildTemplate } from "./db.ts";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Keyed by the vitest main process: both tiers' setups run there, and a second run of the
  // suite (another checkout) builds its own.
  const { template, remove } = await buildTemplate(process.pid);
  project.provide("dbTemplate", template);
  return remove;
}
