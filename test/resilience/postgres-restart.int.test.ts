/**
 * Resilience: the portal's Postgres is down when the operator first migrates it, and is restarted twice
 * during a rollout (a clean restart, then a crash). DatabaseReady must go False and come back True, the
 * migrations must complete exactly once, and every Subscription must end with its read-model row.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { migrations } from "../../db/migrations/index.ts";
import { type Postgres, startPostgres } from "../support/postgres.ts";
import { summarize } from "./invariants.ts";
import {
  createWorld,
  isHealthy,
  keysWork,
  PORTAL,
  seconds,
  subscriptionNames,
  type World,
} from "./portal-world.ts";
import { type RestartablePostgres, restartablePostgres, type StopMode } from "./postgres-restart.ts";

const FIRST_WAVE = 100;
const DURING_OUTAGE = 40;
const TOTAL = FIRST_WAVE + DURING_OUTAGE;
const LATEST = Object.keys(migrations).at(-1);

let postgres: Postgres;
let server: RestartablePostgres;
let world: World;

beforeAll(async () => {
  // A server of its own: restarting the shared one would cut the other suites' connections.
  postgres = await startPostgres();
  server = await restartablePostgres(postgres.url);
});

afterAll(async () => {
  await world?.stop();
  await server?.dispose();
  await postgres?.stop();
});

/** The end of the log of every operator process that died, in order. */
const crashes: string[] = [];

/**
 * Restarts the operator, as its Deployment would, when it stopped answering /healthz, and records the crash:
 * the test goes on to check the recovery of the data, and fails at its end on any crash.
 */
async function keepOperatorRunning(): Promise<void> {
  const operator = world.operator;
  if (!operator || (await isHealthy(operator))) return;
  crashes.push(operator.logs().slice(-2500));
  await operator.kill();
  await world.kube.deletePath(
    `/apis/coordination.k8s.io/v1/namespaces/${world.namespace}/leases/wicked-operator`,
  );
  await world.startOperator();
}

/** Waits for a DatabaseReady status (restarting a crashed operator meanwhile) and returns when it was seen. */
async function databaseReady(status: "True" | "False", timeoutMs = 120_000): Promise<number> {
  await world.eventually(
    `DatabaseReady=${status}`,
    async () => {
      await keepOperatorRunning();
      return (await world.portalCondition("DatabaseReady"))?.status === status;
    },
    timeoutMs,
  );
  return Date.now();
}

describe("Postgres restarts", () => {
  it("migrates once the database comes up, and keeps every committed write through two restarts under load", {
    timeout: 1_200_000,
  }, async () => {
    const report: string[] = [];
    await server.stop("fast");
    world = await createWorld({
      kubeconfig: inject("kubeconfig"),
      databaseUrl: postgres.url,
      prefix: "pgrestart",
      waitForDatabase: false,
      operatorEnv: { WICKED_RESYNC_SECONDS: "3" },
    });
    await world.startOperator();
    await databaseReady("False");
    const refused = await world.portalCondition("DatabaseReady");
    expect(refused?.reason).toBe("ConnectionFailed");
    const upAt = Date.now();
    await server.start();
    const migratedAt = await databaseReady("True");
    const portal = await world.kube.getWicked("apiportals", world.namespace, PORTAL);
    expect(portal?.status?.schemaVersion).toBe(LATEST);
    report.push(
      `database down at first start: DatabaseReady=False (${refused?.reason}); up -> migrated and True: ${seconds(migratedAt - upAt)}`,
    );

    const started = Date.now();
    await world.createSubscriptions(subscriptionNames(FIRST_WAVE));
    await world.eventually(
      "a part of the rollout",
      async () => (await world.progress()).active >= 20,
      180_000,
    );
    const restarts: Array<{
      mode: StopMode;
      activeAtStop: number;
      downMs: number;
      toFalseMs: number;
      toTrueMs: number;
    }> = [];
    for (const mode of ["fast", "immediate"] as const) {
      const { active } = await world.progress();
      const stoppedAt = Date.now();
      await server.stop(mode);
      // Writes keep coming while the database is down: the first outage gets new Subscriptions.
      if (mode === "fast") await world.createSubscriptions(subscriptionNames(DURING_OUTAGE, "late"));
      const falseAt = await databaseReady("False");
      const startAt = Date.now();
      await server.start();
      const trueAt = await databaseReady("True");
      restarts.push({
        mode,
        activeAtStop: active,
        downMs: startAt - stoppedAt,
        toFalseMs: falseAt - stoppedAt,
        toTrueMs: trueAt - startAt,
      });
    }
    const lastUp = Date.now();
    await keepOperatorRunning();
    await world.allActive(TOTAL, 600_000);
    const converged = Date.now();
    const { problems, agreedAt: rowsConverged, counts } = await world.agreement(120_000);

    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    const applied = (
      await client.query<{ name: string }>("SELECT name FROM kysely_migration ORDER BY name")
    ).rows.map((r) => r.name);
    await client.end();

    for (const r of restarts)
      report.push(
        `${r.mode} stop with ${r.activeAtStop} Active: down ${seconds(r.downMs)}, DatabaseReady=False after ${seconds(r.toFalseMs)}, True ${seconds(r.toTrueMs)} after the restart`,
      );
    report.push(
      `${DURING_OUTAGE} Subscriptions created while the database was down; restarts: ${restarts.length + 1} (one at first start)`,
      `recovery, last restart -> all ${TOTAL} Active: ${seconds(converged - lastUp)}, -> read model complete: ${seconds(rowsConverged - lastUp)}; create -> all Active: ${seconds(converged - started)}`,
      `read model: ${counts.rows} Subscription rows; Kong: ${counts.consumers} consumers, ${counts.keyAuths} key-auth credentials; migrations applied: ${applied.join(", ")}`,
    );
    report.push(`operator crashes (restarted like a Deployment would): ${crashes.length}`);
    console.log(`Postgres restarts during a rollout:\n  ${report.join("\n  ")}`);
    expect(summarize(problems)).toBe("no problems");
    expect(applied).toEqual(Object.keys(migrations));
    expect(world.operator && (await isHealthy(world.operator))).toBe(true);
    expect(
      crashes,
      `the operator crashed ${crashes.length} time(s) while Postgres restarted:\n${crashes[0] ?? ""}`,
    ).toEqual([]);
    expect(world.kong.unexpectedErrors).toEqual([]);
    expect(await keysWork(world, ["sub-000-credentials", "late-039-credentials"])).toEqual([]);
  });
});
