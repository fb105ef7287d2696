import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { offlinePortalApi, testConfig } from "./test-support.ts";

/** What `redocly lint --format=json` prints. */
interface LintReport {
  totals: { errors: number; warnings: number; ignored: number };
  problems: Array<{
    ruleId: string;
    severity: string;
    message: string;
    location: Array<{ pointer: string }>;
  }>;
}

const redocly = join(
  dirname(createRequire(import.meta.url).resolve("@redocly/cli/package.json")),
  "bin",
  "cli.js",
);

describe("the OpenAPI document at /openapi.json, linted by Redocly CLI (recommended rules)", () => {
  let dir: string;
  let report: LintReport;

  beforeAll(async () => {
    // Served as make dev serves it: the server URL is the portal's own (a placeholder host such as
    // example.com is what the no-server-example.com rule is there to catch).
    const api = await offlinePortalApi(
      testConfig({
        urls: {
          portal: "http://127.0.0.1:3000",
          api: "http://127.0.0.1:3001",
          auth: "http://127.0.0.1:3010/auth",
          gateway: "http://127.0.0.1:8000",
        },
      }),
    );
    const res = await api.app.inject("/openapi.json");
    await api.close();
    expect(res.statusCode).toBe(200);
    dir = await mkdtemp(join(tmpdir(), "portal-api-openapi-"));
    await writeFile(join(dir, "openapi.json"), res.body);
    // The CLI exits 1 when it finds errors; the JSON report on stdout is what the test reads.
    const run = promisify(execFile)(
      process.execPath,
      [redocly, "lint", "--extends=recommended", "--format=json", "--max-problems=1000", "openapi.json"],
      {
        cwd: dir,
        env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
      },
    );
    const { stdout } = await run.catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? "" }));
    report = JSON.parse(stdout) as LintReport;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("has no errors and no warnings", () => {
    const problems = report.problems.map(
      (p) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer ?? "?"}: ${p.message}`,
    );
    expect({ totals: report.totals, problems }).toEqual({
      totals: { errors: 0, warnings: 0, ignored: 0 },
      problems: [],
    });
  });
});
