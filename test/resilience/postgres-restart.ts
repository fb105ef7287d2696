/**
 * Stops and starts a Postgres server of test/support/postgres.ts on the same data directory and port, so a
 * test can restart the database under load. postgres.ts keeps its server's directory to itself; the server
 * tells where it is (`SHOW data_directory`) and how it was started (`postmaster.opts`, the exact command line
 * Postgres records at start), which is all a restart needs.
 *
 * Cleanup: call dispose() before the owner's stop(), which only stops the server it started itself. If the
 * test process dies instead, postgres.ts's watchdog stops whatever server runs on the data directory.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);
const PG_CTL = "/usr/lib/postgresql/15/bin/pg_ctl";

/** How a server stops: `fast` is a clean shutdown that ends every session; `immediate` is a crash. */
export type StopMode = "fast" | "immediate";

/** A Postgres server that can be stopped and started again. */
export interface RestartablePostgres {
  /** The server's data directory. */
  dataDir: string;
  /** Stops the server; clients see their connections end and new ones refused. */
  stop(mode: StopMode): Promise<void>;
  /** Starts the server again with its original command line and waits until it answers. */
  start(): Promise<void>;
  /** Stops a server start() launched; the original owner's stop() cannot see that one. */
  dispose(): Promise<void>;
}

/** The command line of postmaster.opts: the binary, then each argument in double quotes. Pure. */
export function parsePostmasterOpts(text: string): string[] {
  const line = text.trim();
  const first = /^(\S+)/.exec(line)?.[1];
  if (!first) throw new Error("postmaster.opts is empty");
  const args = [...line.slice(first.length).matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) =>
    (m[1] ?? "").replace(/\\(.)/g, "$1"),
  );
  return [first, ...args];
}

/** Postgres refuses to run as root: as root, run its programs as the `postgres` OS user (like postgres.ts). */
async function runAsPrefix(): Promise<string[]> {
  if (process.getuid?.() !== 0) return [];
  const uid = (await run("id", ["-u", "postgres"])).stdout.trim();
  const gid = (await run("id", ["-g", "postgres"])).stdout.trim();
  return ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--init-groups", "--"];
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Takes over the restarts of the server behind `url` (a superuser URL, as startPostgres gives). */
export async function restartablePostgres(url: string): Promise<RestartablePostgres> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let dataDir: string;
  try {
    dataDir =
      (await client.query<{ data_directory: string }>("SHOW data_directory")).rows[0]?.data_directory ?? "";
  } finally {
    await client.end();
  }
  if (!dataDir) throw new Error("The server did not say where its data directory is");
  const commandLine = parsePostmasterOpts(readFileSync(join(dataDir, "postmaster.opts"), "utf8"));
  const prefix = await runAsPrefix();
  // The postgres user may not enter the caller's working directory; the server's own directory it may.
  const cwd = dirname(dataDir);
  let restarted: ChildProcess | undefined;

  const pgCtlStop = async (mode: StopMode) => {
    const [command, ...args] = [...prefix, PG_CTL, "stop", "-D", dataDir, "-m", mode, "-w", "-t", "60"];
    await run(command as string, args, { cwd });
  };

  return {
    dataDir,
    async stop(mode) {
      await pgCtlStop(mode);
      if (await answers(url)) throw new Error(`Postgres on ${dataDir} still answers after pg_ctl stop`);
    },
    async start() {
      const log = openSync(join(cwd, "postgres-restarted.log"), "a");
      const [command, ...args] = [...prefix, ...commandLine];
      const child = spawn(command as string, args, { cwd, stdio: ["ignore", log, log] });
      closeSync(log);
      restarted = child;
      const deadline = Date.now() + 60_000;
      while (!(await answers(url))) {
        if (child.exitCode !== null)
          throw new Error(
            `Postgres exited with ${child.exitCode} on restart; see ${cwd}/postgres-restarted.log`,
          );
        if (Date.now() > deadline) throw new Error(`Postgres did not answer within 60 s of its restart`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async dispose() {
      const child = restarted;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      await pgCtlStop("fast");
      await exited;
    },
  };
}
