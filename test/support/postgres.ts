// A private Postgres 15 server for tests and for a person at a terminal (`tsx test/support/postgres.ts`).
//
// Cleanup when the owning process dies without calling stop():
// - Ctrl-C in a terminal reaches the server too (it stays in the caller's process group; SIGINT is Postgres'
//   fast shutdown).
// - A normal process exit sends the server SIGQUIT (immediate shutdown) from an 'exit' handler.
// - A watchdog shell process, detached from the caller, polls the caller's pid once a second; when the caller
//   is gone (even after SIGKILL) it stops the server with `pg_ctl stop -m immediate` and deletes the
//   temporary directory. stop() ends the watchdog.
// Only a reboot or killing the watchdog itself can leave a server behind; its directory is named
// `wicked-pg-*` under the system temp directory.

import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, realpathSync } from "node:fs";
import { chown, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import pg from "pg";

/** A running private Postgres server for tests. */
export interface Postgres {
  /** Connection string of the created database, e.g. `postgres://postgres@127.0.0.1:54321/wicked`. */
  url: string;
  /** Stops the server and deletes its directory; calling it again does nothing. */
  stop(): Promise<void>;
}

const BIN_DIR = "/usr/lib/postgresql/15/bin";
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;
const START_ATTEMPTS = 3;

/** How to run a Postgres binary: directly, or as the `postgres` OS user when we are root. */
interface RunAs {
  /** Command prefix that switches user, empty when running as the current user. */
  prefix: string[];
  /** uid and gid that must own the server's files, when switching user. */
  owner?: { uid: number; gid: number };
}

/**
 * Starts Debian's Postgres 15 on a free loopback port, as the postgres user when running as root: in a
 * temporary directory removed on stop, or in `dir`, which keeps its data across runs (`make dev`).
 */
export async function startPostgres(opts?: { database?: string; dir?: string }): Promise<Postgres> {
  const database = opts?.database ?? "wicked";
  const keep = opts?.dir !== undefined;
  for (const tool of ["initdb", "pg_ctl", "postgres"]) {
    if (!existsSync(join(BIN_DIR, tool))) {
      throw new Error(
        `Postgres 15 is not installed: ${join(BIN_DIR, tool)} is missing. Install it with ` +
          "`apt-get install postgresql-15`, or set DATABASE_URL to a Postgres server the tests may use.",
      );
    }
  }
  const runAs = await resolveRunAs();
  const dir = opts?.dir ?? (await mkdtemp(join(tmpdir(), "wicked-pg-")));
  const removeDir = () => (keep ? Promise.resolve() : rm(dir, { recursive: true, force: true }));
  try {
    await mkdir(dir, { recursive: true });
    if (runAs.owner) await chown(dir, runAs.owner.uid, runAs.owner.gid);
    const dataDir = join(dir, "data");
    if (!existsSync(join(dataDir, "PG_VERSION")))
      await run(
        runAs,
        "initdb",
        [
          "-D",
          dataDir,
          "--auth=trust",
          "-U",
          "postgres",
          "--encoding=UTF8",
          "--locale=C.UTF-8",
          "--no-sync",
          "--no-instructions",
        ],
        dir,
      );
    let lastError: unknown;
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      const port = await freePort();
      try {
        const server = await launch(runAs, dir, dataDir, port, keep);
        let stopping: Promise<void> | undefined;
        const stop = (): Promise<void> => {
          stopping ??= server.shutdown().finally(removeDir);
          return stopping;
        };
        try {
          await createDatabase(port, database);
        } catch (err) {
          await stop();
          throw err;
        }
        return { url: `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(database)}`, stop };
      } catch (err) {
        lastError = err;
        // Another process may have taken the port between our probe and the server's bind: try a new one.
        if (!(err instanceof PortTakenError)) throw err;
      }
    }
    throw lastError;
  } catch (err) {
    await removeDir();
    throw err;
  }
}

/** The server could not bind its port; the caller may retry on another. */
class PortTakenError extends Error {}

/** Postgres refuses to run as root: as root, run its binaries as the `postgres` OS user. */
async function resolveRunAs(): Promise<RunAs> {
  if (process.getuid?.() !== 0) return { prefix: [] };
  const [uid, gid] = await Promise.all([idOf("-u"), idOf("-g")]);
  // setpriv execs the command in place (runuser forks and waits), so the spawned pid is the postmaster's
  // own and signals reach it directly.
  return {
    prefix: ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--init-groups", "--"],
    owner: { uid, gid },
  };
}

/** The uid or gid of the `postgres` OS user. */
async function idOf(flag: "-u" | "-g"): Promise<number> {
  let out: string;
  try {
    out = await capture("id", [flag, "postgres"]);
  } catch {
    throw new Error(
      "Postgres refuses to run as root and there is no `postgres` OS user to run it as. " +
        "`apt-get install postgresql-15` creates it, or run the tests as a non-root user.",
    );
  }
  const id = Number.parseInt(out.trim(), 10);
  if (!Number.isInteger(id)) throw new Error(`\`id ${flag} postgres\` printed ${JSON.stringify(out)}`);
  return id;
}

/** Runs a Postgres tool to completion; the error carries its output. */
async function run(runAs: RunAs, tool: string, args: string[], cwd: string): Promise<void> {
  const [command, ...rest] = [...runAs.prefix, join(BIN_DIR, tool), ...args];
  if (command === undefined) throw new Error("empty command");
  try {
    await capture(command, rest, cwd);
  } catch (err) {
    throw new Error(`${tool} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Runs a command and returns its stdout; rejects with stdout and stderr when it exits non-zero. */
function capture(command: string, args: string[], cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // cwd matters as root: the postgres user may not be allowed into the caller's working directory.
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let errOut = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      errOut += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${command} exited with ${code ?? signal}: ${(errOut || out).trim()}`));
    });
  });
}

/** Asks the kernel for a free loopback port by binding port 0. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("could not determine a free port"))));
    });
  });
}

/** Starts the postmaster on the port and waits until it accepts connections; shutdown() leaves the files. */
async function launch(
  runAs: RunAs,
  dir: string,
  dataDir: string,
  port: number,
  keep: boolean,
): Promise<{ shutdown: () => Promise<void> }> {
  // One log per attempt, so a failed bind of an earlier attempt does not look like this one's.
  const logFile = join(dir, `postgres-${port}.log`);
  const settings = {
    listen_addresses: "127.0.0.1",
    port: String(port),
    unix_socket_directories: dir,
    fsync: "off",
    full_page_writes: "off",
    synchronous_commit: "off",
    max_connections: "200",
  };
  const args = Object.entries(settings).flatMap(([name, value]) => ["-c", `${name}=${value}`]);
  const [command, ...rest] = [...runAs.prefix, join(BIN_DIR, "postgres"), "-D", dataDir, ...args];
  if (command === undefined) throw new Error("empty command");
  const logFd = openSync(logFile, "a");
  // A temporary server shares the caller's process group, so Ctrl-C in a terminal stops it too. A kept one
  // (make dev) gets its own: the caller stops it last, after everything that still uses it.
  const server = spawn(command, rest, { cwd: dir, stdio: ["ignore", logFd, logFd], detached: keep });
  closeSync(logFd);
  let running = true;
  const exited = new Promise<void>((resolve) => {
    server.once("exit", () => resolve());
    server.once("error", () => resolve());
  }).then(() => {
    running = false;
  });
  server.unref();
  const signal = (name: NodeJS.Signals): void => {
    if (!running || server.pid === undefined) return;
    try {
      process.kill(server.pid, name);
    } catch {
      // It has just exited.
    }
  };
  // An 'exit' handler can only do synchronous work: an immediate shutdown; the watchdog removes the files.
  const killOnExit = (): void => signal("SIGQUIT");
  process.once("exit", killOnExit);
  const watchdog = startWatchdog(runAs, dir, dataDir, keep);

  const shutdown = async (): Promise<void> => {
    process.removeListener("exit", killOnExit);
    try {
      if (running) {
        try {
          await run(runAs, "pg_ctl", ["stop", "-D", dataDir, "-m", "fast", "-w", "-t", "30"], dir);
        } catch (err) {
          signal("SIGQUIT");
          if (!(await settles(exited, STOP_TIMEOUT_MS))) throw err;
        }
        if (!(await settles(exited, STOP_TIMEOUT_MS))) {
          throw new Error(`Postgres (pid ${server.pid}) did not exit within ${STOP_TIMEOUT_MS / 1000}s`);
        }
      }
    } finally {
      if (watchdog.pid !== undefined) {
        try {
          process.kill(watchdog.pid, "SIGTERM");
        } catch {
          // The watchdog has already gone.
        }
      }
    }
  };

  try {
    await waitUntilReady(port, () => running, logFile);
  } catch (err) {
    await shutdown();
    throw err;
  }
  return { shutdown };
}

/** Resolves true when the promise settles within the time, false otherwise. */
async function settles(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts a detached shell that stops the server once this process is gone, and removes its directory unless
 * it is kept.
 */
function startWatchdog(
  runAs: RunAs,
  dir: string,
  dataDir: string,
  keep: boolean,
): { pid: number | undefined } {
  const script = [
    "parent=$1; dir=$2; data=$3; keep=$4; shift 4",
    'while kill -0 "$parent" 2>/dev/null; do sleep 1; done',
    '"$@" stop -D "$data" -m immediate -w -t 30 >/dev/null 2>&1',
    '[ "$keep" = 1 ] || rm -rf "$dir"',
  ].join("\n");
  const child = spawn(
    "sh",
    [
      "-c",
      script,
      "wicked-pg-watchdog",
      String(process.pid),
      dir,
      dataDir,
      keep ? "1" : "0",
      ...runAs.prefix,
      join(BIN_DIR, "pg_ctl"),
    ],
    { detached: true, stdio: "ignore", cwd: dir },
  );
  child.unref();
  return { pid: child.pid };
}

/** Polls with `SELECT 1` until the server answers, it dies, or the time is up. */
async function waitUntilReady(port: number, isRunning: () => boolean, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (!isRunning()) break;
    // Bounded: if another program took the port, it may accept the connection and never answer.
    const client = new pg.Client({
      host: "127.0.0.1",
      port,
      user: "postgres",
      database: "postgres",
      connectionTimeoutMillis: 2_000,
      query_timeout: 2_000,
    });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.query("SELECT 1");
      await client.end();
      return;
    } catch (err) {
      lastError = err;
      await client.end().catch(() => {});
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const log = await readFile(logFile, "utf8").catch(() => "");
  const tail = log.trimEnd().split("\n").slice(-30).join("\n");
  if (/could not bind|could not create any TCP\/IP sockets/.test(log)) {
    throw new PortTakenError(`Postgres could not bind 127.0.0.1:${port}:\n${tail}`);
  }
  const why = isRunning()
    ? `did not accept connections within ${READY_TIMEOUT_MS / 1000}s (last error: ${messageOf(lastError)})`
    : "exited during startup";
  throw new Error(`Postgres on 127.0.0.1:${port} ${why}. Server log (last lines):\n${tail}`);
}

/** The message of an error, or the thrown value as text. */
function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Creates the database the URL names, unless it is the `postgres` database initdb made. */
async function createDatabase(port: number, database: string): Promise<void> {
  if (database === "postgres") return;
  const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", database: "postgres" });
  await client.connect();
  try {
    const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

/** Whether this module is the program being run (`tsx test/support/postgres.ts`), not an import. */
function isMain(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isMain()) {
  const database = process.argv[2];
  const server = await startPostgres(database ? { database } : undefined);
  // The URL alone on stdout, so scripts can read it; the rest on stderr.
  process.stdout.write(`${server.url}\n`);
  process.stderr.write("Postgres is running; press Ctrl-C to stop it.\n");
  const keepAlive = setInterval(() => {}, 1 << 30);
  const shutdown = (): void => {
    clearInterval(keepAlive);
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`${messageOf(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}
