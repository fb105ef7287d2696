// THIS IS A TEST DOUBLE. The `kong` command of the Kong test double's container image
// (test/kong/image/Containerfile), so a managed gateway on a real node can run the double where Kong's image
// would run: the operator renders the same Deployment and migration Jobs either way. It is built only for the
// tests, never shipped, and never imported by the product.
//
// What it imitates of Kong 3.x in DB mode, from KONG_* environment variables:
// - `kong migrations bootstrap|up|finish|list` against the Postgres database of KONG_PG_* (a table of its
//   own records the version the database was migrated to, and each command run, for tests to read);
//   bootstrap on a bootstrapped database prints "Database already bootstrapped" and succeeds; up and finish
//   on a database that is not bootstrapped fail as Kong does; list exits 3 (needs bootstrap), 4 (pending
//   finish), 5 (new migrations) or 0;
// - `kong docker-start` (and `kong start`) refuses a database that is not bootstrapped or lacks this
//   version's migrations, then serves the double's Admin API on KONG_ADMIN_LISTEN, its proxy on
//   KONG_PROXY_LISTEN and the status API (/status, /status/ready) on KONG_STATUS_LISTEN.
// Its entities live in the process's memory, not in the database: run one replica.
import { createServer } from "node:http";
import pg from "pg";
import { KONG_VERSION, listen, sendJson } from "../http-util.ts";
import { startKongDouble } from "../kong-double.ts";

/** The version this image claims to be; KONG_DOUBLE_VERSION lets a second tag play an upgrade. */
const VERSION = process.env.KONG_DOUBLE_VERSION ?? KONG_VERSION;
const STATE_TABLE = "wicked_kong_double_state";
const LOG_TABLE = "wicked_kong_double_log";

const NEEDS_BOOTSTRAP =
  "Database needs bootstrapping or is older than Kong 1.0.\n\nTo start a new installation from scratch, run 'kong migrations bootstrap'.";

/** A failure that ends the command with a message and an exit code, as Kong's CLI does. */
class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

function database(): pg.Client {
  const env = process.env;
  const ssl = env.KONG_PG_SSL === "on";
  return new pg.Client({
    host: env.KONG_PG_HOST ?? "127.0.0.1",
    port: Number(env.KONG_PG_PORT ?? 5432),
    user: env.KONG_PG_USER ?? "kong",
    password: env.KONG_PG_PASSWORD ?? "",
    database: env.KONG_PG_DATABASE ?? "kong",
    ...(ssl ? { ssl: { rejectUnauthorized: env.KONG_PG_SSL_VERIFY === "on" } } : {}),
    connectionTimeoutMillis: 10_000,
  });
}

interface State {
  executed: string;
  pending: string | null;
}

async function state(db: pg.Client): Promise<State | undefined> {
  const exists = await db.query("SELECT to_regclass($1) AS t", [STATE_TABLE]);
  if (!exists.rows[0]?.t) return undefined;
  const rows = await db.query(`SELECT executed, pending FROM ${STATE_TABLE} WHERE subsystem = 'core'`);
  return rows.rows[0] as State | undefined;
}

async function log(db: pg.Client, command: string): Promise<void> {
  await db.query(`INSERT INTO ${LOG_TABLE} (command, version) VALUES ($1, $2)`, [command, VERSION]);
}

async function migrations(command: string): Promise<number> {
  const db = database();
  await db.connect();
  try {
    const current = await state(db);
    switch (command) {
      case "bootstrap": {
        if (current) {
          console.log("Database already bootstrapped");
          return 0;
        }
        console.log("Bootstrapping database...");
        await db.query(
          `CREATE TABLE ${STATE_TABLE} (subsystem text PRIMARY KEY, executed text NOT NULL, pending text)`,
        );
        await db.query(
          `CREATE TABLE ${LOG_TABLE} (id serial PRIMARY KEY, command text NOT NULL, version text NOT NULL, at timestamptz NOT NULL DEFAULT now())`,
        );
        await db.query(`INSERT INTO ${STATE_TABLE} (subsystem, executed) VALUES ('core', $1)`, [VERSION]);
        await log(db, "bootstrap");
        console.log(`migrating core on database '${process.env.KONG_PG_DATABASE ?? "kong"}'...`);
        console.log(`core migrated up to: ${VERSION} (executed)`);
        console.log("Database is up-to-date");
        return 0;
      }
      case "up": {
        if (!current) throw new CliError(NEEDS_BOOTSTRAP);
        if (current.executed === VERSION || current.pending === VERSION) {
          console.log("Database is already up-to-date");
          return 0;
        }
        if (current.pending)
          throw new CliError("Database has pending migrations; run 'kong migrations finish'");
        await db.query(`UPDATE ${STATE_TABLE} SET pending = $1 WHERE subsystem = 'core'`, [VERSION]);
        await log(db, "up");
        console.log(`core migrated up to: ${VERSION} (pending)`);
        console.log("Database has pending migrations; run 'kong migrations finish' when ready");
        return 0;
      }
      case "finish": {
        if (!current) throw new CliError(NEEDS_BOOTSTRAP);
        if (!current.pending) {
          console.log("No pending migrations to finish");
          return 0;
        }
        await db.query(
          `UPDATE ${STATE_TABLE} SET executed = pending, pending = NULL WHERE subsystem = 'core'`,
        );
        await log(db, "finish");
        console.log(`core migrated up to: ${current.pending} (executed)`);
        console.log("Database is up-to-date");
        return 0;
      }
      case "list": {
        if (!current) throw new CliError(NEEDS_BOOTSTRAP, 3);
        console.log(
          `core: executed ${current.executed}${current.pending ? `, pending ${current.pending}` : ""}`,
        );
        if (current.pending) return 4;
        return current.executed === VERSION ? 0 : 5;
      }
      default:
        throw new CliError(`Unknown command: kong migrations ${command}`);
    }
  } finally {
    await db.end();
  }
}

/** host and port of a Kong listen setting such as `0.0.0.0:8001` or `0.0.0.0:8000 reuseport`. */
function listenOf(value: string | undefined, fallback: number): { host: string; port: number } {
  const first = (value ?? "").split(",")[0]?.trim().split(/\s+/)[0] ?? "";
  const at = first.lastIndexOf(":");
  if (at < 0) return { host: "0.0.0.0", port: fallback };
  return { host: first.slice(0, at) || "0.0.0.0", port: Number(first.slice(at + 1)) || fallback };
}

async function start(): Promise<number> {
  const db = database();
  await db.connect();
  try {
    const current = await state(db);
    if (!current) throw new CliError(NEEDS_BOOTSTRAP);
    if (current.executed !== VERSION && current.pending !== VERSION)
      throw new CliError(
        `New migrations available; run 'kong migrations up' to proceed (database at ${current.executed})`,
      );
    await log(db, "start");
  } finally {
    await db.end();
  }
  const admin = listenOf(process.env.KONG_ADMIN_LISTEN, 8001);
  const proxy = listenOf(process.env.KONG_PROXY_LISTEN, 8000);
  const statusAt = listenOf(process.env.KONG_STATUS_LISTEN, 8100);
  const kong = await startKongDouble({ host: admin.host, adminPort: admin.port, proxyPort: proxy.port });
  const status = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://status.invalid").pathname;
    if (path === "/status/ready") sendJson(res, 200, { message: "ready" });
    else if (path === "/status") sendJson(res, 200, { database: { reachable: true }, server: {} });
    else sendJson(res, 404, { message: "Not found" });
  });
  await listen(status, statusAt.host, statusAt.port);
  console.log(
    `THIS IS THE KONG TEST DOUBLE (version ${VERSION}), not Kong: Admin API ${kong.adminUrl}, proxy ${kong.proxyUrl}, status :${statusAt.port}`,
  );
  await new Promise<void>((resolve) => {
    for (const signal of ["SIGTERM", "SIGQUIT", "SIGINT"] as const) process.once(signal, () => resolve());
  });
  status.close();
  await kong.stop();
  return 0;
}

async function main(args: string[]): Promise<number> {
  const [command, sub] = args;
  if (command === "migrations" && sub) return migrations(sub);
  if (command === "docker-start" || command === "start") return start();
  if (command === "version") {
    console.log(`Kong ${VERSION} (test double)`);
    return 0;
  }
  throw new CliError(`Unknown command: kong ${args.join(" ")}`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`Error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(err instanceof CliError ? err.exitCode : 1);
  },
);
