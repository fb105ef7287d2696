/**
 * The `kong` command of the Kong test double's image, against a real Postgres: the migrations behave as
 * Kong's do where the managed gateway depends on it (bootstrap twice, up before bootstrap, start before
 * migrating), and `docker-start` serves the Admin API, the proxy and the status API on the KONG_*_LISTEN
 * addresses. The image itself runs on the real node (test/e2e/node).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../../../hack/controlplane/controlplane.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";

let database: TestDatabase;
let env: NodeJS.ProcessEnv;

function kong(args: string[], version = "3.9.0"): { code: number; out: string } {
  const r = spawnSync("node_modules/.bin/tsx", ["test/kong/image/kong.ts", ...args], {
    env: { ...env, KONG_DOUBLE_VERSION: version },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status ?? -1, out: r.stdout + r.stderr };
}

beforeAll(async () => {
  database = await createTestDatabase(inject("databaseUrl"));
  const url = new URL(database.url);
  env = {
    ...process.env,
    KONG_PG_HOST: url.hostname,
    KONG_PG_PORT: url.port,
    KONG_PG_USER: decodeURIComponent(url.username),
    KONG_PG_PASSWORD: decodeURIComponent(url.password),
    KONG_PG_DATABASE: url.pathname.slice(1),
  };
});

afterAll(async () => {
  await database?.drop();
});

describe("the Kong test double's kong command", () => {
  it("migrates like Kong: nothing runs before bootstrap, bootstrap twice is fine, up then finish for a new version", () => {
    expect(kong(["migrations", "up"])).toMatchObject({
      code: 1,
      out: expect.stringContaining("Database needs bootstrapping"),
    });
    expect(kong(["migrations", "list"]).code).toBe(3);
    expect(kong(["docker-start"])).toMatchObject({
      code: 1,
      out: expect.stringContaining("needs bootstrapping"),
    });

    expect(kong(["migrations", "bootstrap"])).toMatchObject({
      code: 0,
      out: expect.stringContaining("Database is up-to-date"),
    });
    expect(kong(["migrations", "bootstrap"])).toMatchObject({
      code: 0,
      out: expect.stringContaining("Database already bootstrapped"),
    });
    expect(kong(["migrations", "up"])).toMatchObject({
      code: 0,
      out: expect.stringContaining("already up-to-date"),
    });
    expect(kong(["migrations", "list"]).code).toBe(0);

    expect(kong(["migrations", "list"], "3.9.1").code).toBe(5);
    expect(kong(["docker-start"], "3.9.1")).toMatchObject({
      code: 1,
      out: expect.stringContaining("run 'kong migrations up'"),
    });
    expect(kong(["migrations", "up"], "3.9.1")).toMatchObject({
      code: 0,
      out: expect.stringContaining("3.9.1 (pending)"),
    });
    expect(kong(["migrations", "list"], "3.9.1").code).toBe(4);
    expect(kong(["migrations", "finish"], "3.9.1")).toMatchObject({
      code: 0,
      out: expect.stringContaining("3.9.1 (executed)"),
    });
    expect(kong(["migrations", "list"], "3.9.1").code).toBe(0);
  });

  it("docker-start serves the Admin API, the proxy and /status/ready on the configured listeners", async () => {
    const [admin, proxy, status] = [await freePort(), await freePort(), await freePort()];
    let child: ChildProcess | undefined;
    try {
      child = spawn("node_modules/.bin/tsx", ["test/kong/image/kong.ts", "docker-start"], {
        env: {
          ...env,
          KONG_DOUBLE_VERSION: "3.9.1",
          KONG_ADMIN_LISTEN: `127.0.0.1:${admin}`,
          KONG_PROXY_LISTEN: `127.0.0.1:${proxy}`,
          KONG_STATUS_LISTEN: `127.0.0.1:${status}`,
        },
        stdio: "ignore",
      });
      let ready = false;
      for (let i = 0; i < 100 && !ready; i++) {
        ready = await fetch(`http://127.0.0.1:${status}/status/ready`).then(
          (r) => r.ok,
          () => false,
        );
        if (!ready) await new Promise((r) => setTimeout(r, 200));
      }
      expect(ready).toBe(true);
      const info = (await (await fetch(`http://127.0.0.1:${admin}/`)).json()) as {
        configuration: { database: string };
      };
      expect(info.configuration.database).toBe("postgres");
      expect((await fetch(`http://127.0.0.1:${proxy}/anything`)).status).toBe(404);
    } finally {
      child?.kill("SIGTERM");
    }
  });
});
