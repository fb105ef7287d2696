import { type ChildProcessByStdio, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { dirname } from "node:path";
import type { Readable } from "node:stream";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { startPostgres } from "./postgres.ts";

/** Whether something accepts TCP connections on the loopback port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Runs a query on a fresh connection and returns the first row. */
async function queryOne<T extends pg.QueryResultRow>(url: string, text: string): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<T>(text);
    const [row] = rows;
    if (!row) throw new Error(`no row from ${text}`);
    return row;
  } finally {
    await client.end();
  }
}

/** Retries until the check holds or the time is up. */
async function eventually(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return check();
}

/** The first line the program prints on stdout (the URL); rejects with its stderr if it exits first. */
function firstLine(child: ChildProcessByStdio<null, Readable, Readable>): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("\n")) resolve(out.trim());
    });
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once("exit", (code) => reject(new Error(`exited with ${code}: ${err}`)));
  });
}

describe("startPostgres", () => {
  it("runs a private server with the database, and stop() removes every trace", async () => {
    const server = await startPostgres({ database: "second" });
    const url = new URL(server.url);
    expect(url.protocol).toBe("postgres:");
    expect(url.hostname).toBe("127.0.0.1");
    expect(url.username).toBe("postgres");
    expect(url.pathname).toBe("/second");
    const port = Number(url.port);

    const row = await queryOne<Record<string, string>>(
      server.url,
      `SELECT current_database() AS db, current_setting('data_directory') AS data,
              current_setting('fsync') AS fsync, current_setting('max_connections') AS max,
              current_setting('listen_addresses') AS listen, current_setting('server_version_num') AS version`,
    );
    expect(row).toMatchObject({ db: "second", fsync: "off", max: "200", listen: "127.0.0.1" });
    expect(Number(row.version)).toBeGreaterThanOrEqual(150000);
    expect(Number(row.version)).toBeLessThan(160000);
    const dir = dirname(row.data ?? "");
    expect(existsSync(dir)).toBe(true);

    await server.stop();
    expect(await listening(port)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await server.stop();
  });

  it("starts servers side by side on different ports", async () => {
    const [a, b] = await Promise.all([startPostgres(), startPostgres()]);
    try {
      expect(new URL(a.url).port).not.toBe(new URL(b.url).port);
      expect(new URL(a.url).pathname).toBe("/wicked");
      await expect(queryOne(b.url, "SELECT 1 AS one")).resolves.toEqual({ one: 1 });
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it("does not outlive a process that is killed, when run as a program", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "test/support/postgres.ts", "orphan"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const url = await firstLine(child);
      expect(url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/orphan$/);
      const row = await queryOne<{ data: string }>(url, "SELECT current_setting('data_directory') AS data");
      const dir = dirname(row.data);
      const port = Number(new URL(url).port);

      child.kill("SIGKILL");
      expect(await eventually(async () => !(await listening(port)) && !existsSync(dir), 20_000)).toBe(true);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("stops cleanly on SIGTERM when run as a program", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "test/support/postgres.ts"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const url = await firstLine(child);
    const row = await queryOne<{ data: string }>(url, "SELECT current_setting('data_directory') AS data");
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(await listening(Number(new URL(url).port))).toBe(false);
    expect(existsSync(dirname(row.data))).toBe(false);
  });
});
