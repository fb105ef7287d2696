import { type Kysely, sql } from "kysely";
import {
  type Migration,
  type MigrationResult,
  type MigrationResultSet,
  Migrator,
  NO_MIGRATIONS,
} from "kysely/migration";
import { migrations as releasedMigrations, type SchemaMigration } from "./migrations/index.ts";

// Migrations run through kysely's Migrator: one Postgres transaction per run (so a failed run leaves the
// schema as it was), serialized across processes by an advisory lock, recorded in `kysely_migration`.

/** Why migrating failed, as a CamelCase reason fit for a status condition (e.g. `DatabaseReady=False`). */
export type MigrationFailureReason =
  /** The database could not be reached or refused the login. */
  | "DatabaseUnreachable"
  /** The database has migrations this build does not know: it was migrated by a newer wicked. */
  | "SchemaFromNewerVersion"
  /** A migration (or the bookkeeping around it) failed on the database. */
  | "MigrationFailed";

/**
 * Migrating the database failed. The message says what to do about it; `reason` classifies it for a status
 * condition; `cause` keeps the original error.
 */
export class MigrationError extends Error {
  override readonly name = "MigrationError";
  /** Why it failed. */
  readonly reason: MigrationFailureReason;
  /** The migration that failed, when one did. */
  readonly migration: string | undefined;
  /** The schema version before the run, which is also the version after it (runs are transactional). */
  readonly version: string | null;

  constructor(
    message: string,
    details: { reason: MigrationFailureReason; migration?: string; version: string | null; cause?: unknown },
  ) {
    super(message, { cause: details.cause });
    this.reason = details.reason;
    this.migration = details.migration;
    this.version = details.version;
  }
}

/** What a migration run did. */
export interface MigrationReport {
  /** Migrations run forwards, in order. */
  applied: string[];
  /** Migrations undone, in order. */
  reverted: string[];
  /** The schema version afterwards: the name of the last applied migration, null when there is none. */
  version: string | null;
}

/** Options of a migration run. */
export interface MigrateOptions {
  /** The migrations to run instead of the released ones; for tests. */
  migrations?: Readonly<Record<string, SchemaMigration>>;
}

const MIGRATION_TABLE = "kysely_migration";

/**
 * Brings the database to the newest schema this build knows; the operator calls it before rolling out the
 * components. Safe to call concurrently and repeatedly: a second run applies nothing. Throws a
 * MigrationError, after which the schema is unchanged.
 */
export async function migrateToLatest<DB>(
  db: Kysely<DB>,
  opts: MigrateOptions = {},
): Promise<{ applied: string[]; version: string }> {
  const report = await run(db, opts, (migrator) => migrator.migrateToLatest());
  return { applied: report.applied, version: report.version ?? "" };
}

/**
 * Moves the schema to the given migration, forwards or backwards; null undoes every migration. For
 * rolling back an upgrade and for tests. Throws a RangeError for an unknown target, a MigrationError when
 * migrating fails.
 */
export async function migrateTo<DB>(
  db: Kysely<DB>,
  target: string | null,
  opts: MigrateOptions = {},
): Promise<MigrationReport> {
  const known = opts.migrations ?? releasedMigrations;
  if (target !== null && !Object.hasOwn(known, target)) {
    throw new RangeError(
      `There is no migration "${target}"; known: ${Object.keys(known).join(", ") || "none"}.`,
    );
  }
  return run(db, opts, (migrator) => migrator.migrateTo(target ?? NO_MIGRATIONS));
}

/**
 * The schema version of the database: the name of the last migration applied, null for a database that
 * was never migrated. Reported in the ApiPortal's status. Throws the driver's error when the database
 * cannot be queried.
 */
export async function schemaVersion<DB>(db: Kysely<DB>): Promise<string | null> {
  const applied = await appliedMigrations(db);
  return applied.at(-1) ?? null;
}

/** Runs the migrator after checking the database was not migrated by a newer build. */
async function run<DB>(
  db: Kysely<DB>,
  opts: MigrateOptions,
  migrate: (migrator: Migrator) => Promise<MigrationResultSet>,
): Promise<MigrationReport> {
  const known = opts.migrations ?? releasedMigrations;
  let before: string[];
  try {
    before = await appliedMigrations(db);
  } catch (err) {
    throw failure(err, undefined, null);
  }
  const version = before.at(-1) ?? null;
  const unknown = before.filter((name) => !Object.hasOwn(known, name));
  if (unknown.length > 0) {
    const latest = Object.keys(known).sort().at(-1) ?? "none";
    throw new MigrationError(
      `The database schema is at version "${version}", which this build of wicked does not know ` +
        `(it knows migrations up to "${latest}"; unknown: ${unknown.join(", ")}). It was probably migrated by a ` +
        "newer wicked: run that version again, or restore the database from a backup taken before the upgrade.",
      { reason: "SchemaFromNewerVersion", version },
    );
  }

  const migrator = new Migrator({ db, provider: { getMigrations: async () => adapt(known) } });
  const { error, results = [] } = await migrate(migrator);
  if (error !== undefined) {
    throw failure(
      error,
      results.find((r) => r.status === "Error"),
      version,
    );
  }
  const done = (direction: MigrationResult["direction"]) =>
    results.filter((r) => r.status === "Success" && r.direction === direction).map((r) => r.migrationName);
  return { applied: done("Up"), reverted: done("Down"), version: await schemaVersion(db) };
}

/** Names of the applied migrations in order; empty when the bookkeeping table does not exist yet. */
async function appliedMigrations<DB>(db: Kysely<DB>): Promise<string[]> {
  const { rows: found } = await sql<{ exists: boolean }>`
    SELECT to_regclass(${MIGRATION_TABLE}) IS NOT NULL AS exists`.execute(db);
  if (!found[0]?.exists) return [];
  const { rows } = await sql<{
    name: string;
  }>`SELECT name FROM ${sql.table(MIGRATION_TABLE)} ORDER BY name`.execute(db);
  return rows.map((row) => row.name);
}

/**
 * Gives kysely the migrations, each lifting the connection's statement timeout for its own transaction:
 * a migration may legitimately run longer than any query of the running components.
 */
function adapt(known: Readonly<Record<string, SchemaMigration>>): Record<string, Migration> {
  return Object.fromEntries(
    Object.entries(known).map(([name, migration]) => [
      name,
      {
        async up(db: Kysely<unknown>) {
          await sql`SET LOCAL statement_timeout = 0`.execute(db);
          await migration.up(db);
        },
        async down(db: Kysely<unknown>) {
          await sql`SET LOCAL statement_timeout = 0`.execute(db);
          await migration.down(db);
        },
      },
    ]),
  );
}

/** Turns what went wrong into a MigrationError whose message says what to do. */
function failure(err: unknown, failed: MigrationResult | undefined, version: string | null): MigrationError {
  const cause = describe(err);
  const at = version === null ? "still unmigrated" : `still at version "${version}"`;
  if (isConnectionError(err)) {
    return new MigrationError(
      `Could not reach the database to migrate it: ${cause}. Check that Postgres is running and reachable ` +
        "from here, and that the connection URL (host, port, database name, user and password) is right.",
      { reason: "DatabaseUnreachable", version, cause: err },
    );
  }
  const privilege =
    pgCode(err) === "42501"
      ? " The database user lacks a privilege the migration needs: make it the owner of the database, or grant it CREATE on the database and its schema."
      : "";
  if (failed) {
    const verb = failed.direction === "Up" ? "Migration" : "Reverting migration";
    return new MigrationError(
      `${verb} "${failed.migrationName}" failed: ${cause}.${privilege} Nothing of this run was kept (it runs in ` +
        `one transaction), so the schema is ${at}. Fix the cause, then run the migration again (restart the operator).`,
      { reason: "MigrationFailed", migration: failed.migrationName, version, cause: err },
    );
  }
  return new MigrationError(`Could not migrate the database: ${cause}.${privilege} The schema is ${at}.`, {
    reason: "MigrationFailed",
    version,
    cause: err,
  });
}

/** The error's message with the Postgres SQLSTATE and detail, when it has them. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = pgCode(err);
  const detail = stringField(err, "detail");
  return [err.message, detail && `(${detail})`, code && `[SQLSTATE ${code}]`].filter(Boolean).join(" ");
}

/** Node's network errors, pg's connect timeout, and the SQLSTATEs of connection and login failures. */
function isConnectionError(err: unknown): boolean {
  const code = stringField(err, "code") ?? "";
  if (["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH"].includes(code)) {
    return true;
  }
  if (/^(08|28)/.test(code) || code === "3D000" || code === "57P03") return true;
  return err instanceof Error && /timeout expired|Connection terminated/i.test(err.message);
}

/** The SQLSTATE of a Postgres error. */
function pgCode(err: unknown): string | undefined {
  const code = stringField(err, "code");
  return code && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** A non-empty string property of an error object. */
function stringField(err: unknown, field: string): string | undefined {
  if (typeof err !== "object" || err === null || !(field in err)) return undefined;
  const value: unknown = Reflect.get(err, field);
  return typeof value === "string" && value !== "" ? value : undefined;
}
