/**
 * The portal's database as the operator sees it: connects from the Secret's URL, runs the migrations and
 * turns every failure into an observation a user can act on. Keeps one small pool per database URL.
 */
import type { Kysely } from "kysely";
import { createDatabase } from "../../db/connect.ts";
import { MigrationError, migrateTo, migrateToLatest } from "../../db/migrate.ts";
import type { Database } from "../../db/schema.ts";
import { type Observation, Reason } from "./status.ts";

/** The DatabaseReady observation plus the schema version when migrated. */
export type DatabaseObservation = Observation & { schemaVersion?: string };

/** Pools by URL, so reconciles reuse connections; close() ends them all. */
export class PortalDatabases {
  private readonly pools = new Map<string, Kysely<Database>>();

  /** The pool of a database URL, opened on first use; throws on a URL that is not postgres://. */
  pool(url: string): Kysely<Database> {
    let db = this.pools.get(url);
    if (!db) {
      db = createDatabase(url, {
        applicationName: "wicked-operator",
        // Enough for the busiest moment: 4 Subscription workers, the other controllers' one each, and the
        // notification controllers' 2 + 2, without a reconcile waiting on a connection.
        maxConnections: 10,
        connectionTimeoutMs: 10_000,
      });
      this.pools.set(url, db);
    }
    return db;
  }

  /** Connects and migrates to the latest schema; never throws. */
  async migrate(url: string): Promise<DatabaseObservation> {
    let db: Kysely<Database>;
    try {
      db = this.pool(url);
    } catch (err) {
      return { status: "False", reason: Reason.InvalidDatabaseUrl, message: (err as Error).message };
    }
    try {
      const { version } = await migrateToLatest(db);
      return {
        status: "True",
        reason: Reason.Migrated,
        message: `The database schema is at version ${version}`,
        schemaVersion: version,
      };
    } catch (err) {
      // The pool stays: other controllers' reconciles are using it, and destroying it under them failed
      // each of them with "driver has already been destroyed". pg replaces broken connections itself.
      return describeFailure(err);
    }
  }

  /** Drops wicked's tables (deletion policy Delete). */
  async dropSchema(url: string): Promise<void> {
    await migrateTo(this.pool(url), null);
    await this.forget(url);
  }

  private async forget(url: string): Promise<void> {
    const db = this.pools.get(url);
    this.pools.delete(url);
    await db?.destroy().catch(() => undefined);
  }

  /** Closes every pool. */
  async close(): Promise<void> {
    await Promise.all([...this.pools.keys()].map((url) => this.forget(url)));
  }
}

function describeFailure(err: unknown): DatabaseObservation {
  const cause = err instanceof MigrationError ? (err.cause ?? err) : err;
  const code = (cause as { code?: string }).code;
  const detail = (cause as Error).message ?? String(cause);
  if (code === "28P01" || code === "28000") {
    return {
      status: "False",
      reason: Reason.AuthenticationFailed,
      message: `Postgres refused the login (${detail}); fix the user or password in the database Secret`,
    };
  }
  if (code === "3D000") {
    return {
      status: "False",
      reason: Reason.ConnectionFailed,
      message: `${detail}; create the database or fix its name in the database Secret`,
    };
  }
  if (err instanceof MigrationError && err.reason === "MigrationFailed") {
    return { status: "False", reason: Reason.MigrationFailed, message: err.message };
  }
  return {
    status: "False",
    reason: Reason.ConnectionFailed,
    message: `Cannot connect to Postgres (${detail || code || "unknown error"}); check the host and port in the database Secret and that the database accepts connections from the operator`,
  };
}
