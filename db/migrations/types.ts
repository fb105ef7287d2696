import type { Kysely } from "kysely";

/**
 * One step of the database schema. Unlike kysely's own `Migration`, `down` is required (every step can be
 * undone, so a rollback of wicked can take its schema with it) and the database handle is untyped on
 * purpose: a migration describes the schema as it was when it was written, not as db/schema.ts says now.
 */
export interface SchemaMigration {
  /** Moves the schema one version forward. */
  up(db: Kysely<unknown>): Promise<void>;
  /** Undoes exactly what `up` did. */
  down(db: Kysely<unknown>): Promise<void>;
}
