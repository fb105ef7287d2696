import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Logger } from "pino";
import type { Database } from "./schema.ts";

/** How a component connects to wicked's database; every field has a default that suits a Deployment. */
export interface DatabaseOptions {
  /** Name shown in `pg_stat_activity`, so a DBA can tell the components apart; default `wicked`. */
  applicationName?: string;
  /**
   * Most connections the pool opens; default 10. Keep replicas × this below the server's
   * `max_connections` (and use 1 for an embedded server that serves one connection at a time).
   */
  maxConnections?: number;
  /** Longest a statement may run before the server cancels it, in ms; default 30 000, 0 for no limit. */
  statementTimeoutMs?: number;
  /**
   * Longest a session may sit idle inside a transaction before the server ends it, in ms; default 60 000.
   * A leaked transaction would otherwise hold its locks (and block migrations) forever.
   */
  idleInTransactionTimeoutMs?: number;
  /** Longest to wait for a new connection, in ms; default 10 000, so an unreachable server fails fast. */
  connectionTimeoutMs?: number;
  /** How long an unused connection stays open, in ms; default 30 000. */
  idleTimeoutMs?: number;
  /** Receives errors of idle connections (the pool drops them and opens new ones when needed). */
  logger?: Pick<Logger, "warn">;
}

/**
 * Opens wicked's database: a kysely instance over a node-postgres pool, typed with the schema. Connects
 * lazily; `destroy()` closes the pool. Settings in the URL's query (e.g. `application_name`, `sslmode`)
 * take precedence over the options.
 */
export function createDatabase(url: string, opts: DatabaseOptions = {}): Kysely<Database> {
  assertPostgresUrl(url);
  const pool = new pg.Pool({
    connectionString: url,
    application_name: opts.applicationName ?? "wicked",
    max: opts.maxConnections ?? 10,
    statement_timeout: opts.statementTimeoutMs ?? 30_000,
    idle_in_transaction_session_timeout: opts.idleInTransactionTimeoutMs ?? 60_000,
    connectionTimeoutMillis: opts.connectionTimeoutMs ?? 10_000,
    idleTimeoutMillis: opts.idleTimeoutMs ?? 30_000,
  });
  // Without a listener, an idle connection that dies (server restart, failover) would crash the process.
  pool.on("error", (err) => {
    opts.logger?.warn({ err }, "Lost an idle database connection; the pool opens a new one when needed");
  });
  // A connection checked out when the server goes away (a restart, a failover) emits 'error' on the client
  // itself; without a listener Node exits. The query in flight fails and is retried by its caller.
  pool.on("connect", (client) => {
    client.on("error", (err) => opts.logger?.warn({ err }, "Lost a database connection in use"));
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** Refuses anything but a postgres:// URL, without repeating the URL (it may hold a password). */
function assertPostgresUrl(url: string): void {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new Error(
      "The database URL is not a valid URL; expected postgres://user:password@host:5432/wicked",
    );
  }
  if (protocol !== "postgres:" && protocol !== "postgresql:") {
    throw new Error(
      `The database URL has the scheme "${protocol}"; expected postgres://user:password@host:5432/wicked`,
    );
  }
}
