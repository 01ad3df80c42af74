import { pgcrypto } from "@electric-sql/pglite/contrib/pgcrypto";

/**
 * The extensions every embedded PGlite loads: pgcrypto, which the bootstrap's stand-in for
 * Supabase Vault encrypts with (scripts/sql/bootstrap.sql). PGlite loads an extension only when
 * the instance is created with it, so every `PGlite.create` passes these.
 */
export const pgliteExtensions = { pgcrypto };
