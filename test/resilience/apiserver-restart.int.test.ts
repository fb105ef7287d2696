/**
 * Resilience: the kube-apiserver is SIGKILLed and restarted twice during a rollout, once shorter and once
 * longer than the operator's lease renew deadline (10 s). The same operator process must keep running,
 * reconnect its watches, lead again and converge; objects created after the restarts must be seen too.
 * Runs on a control plane of its own, so restarting its apiserver disturbs no other suite.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type ControlPlane, startControlPlane } from "../../hack/controlplane/controlplane.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { type RestartableApiserver, restartableApiserver } from "./apiserver-restart.ts";
import { summarize } from "./invariants.ts";
import {
  createWorld,
  isHealthy,
  isLeading,
  keysWork,
  seconds,
  subscriptionNames,
  type World,
} from "./portal-world.ts";

const FIRST_WAVE = 100;
const AFTER_RESTARTS = 20;
const TOTAL = FIRST_WAVE + AFTER_RESTARTS;
/** Outages: one the lease survives, one longer than the renew deadline, so the leader steps down. */
const OUTAGES_MS = [4_000, 14_000];

let controlPlane: ControlPlane;
let apiserver: RestartableApiserver;
let database: TestDatabase;
let world: World;

beforeAll(async () => {
  controlPlane = await startControlPlane();
  apiserver = restartableApiserver(controlPlane);
  database = await createTestDatabase(inject("databaseUrl"));
  world = await createWorld({
    kubeconfig: controlPlane.kubeconfig,
    databaseUrl: database.url,
    prefix: "apiserver",
  });
});

afterAll(async () => {
  await world?.stop();
  await database?.drop();
  await apiserver?.dispose();
  await controlPlane?.stop();
});

describe("kube-apiserver restarts", () => {
  it("the running operator reconnects, leads again and converges, and sees objects created afterwards", {
    timeout: 1_200_000,
  }, async () => {
    const operator = world.operator;
    if (!operator) throw new Error("no operator is running");
    const started = Date.now();
    await world.createSubscriptions(subscriptionNames(FIRST_WAVE));
    await world.eventually(
      "a part of the rollout",
      async () => (await world.progress()).active >= 20,
      180_000,
    );

    const restarts: string[] = [];
    const recoveries: number[] = [];
    for (const outageMs of OUTAGES_MS) {
      const { active } = await world.progress();
      const killedAt = Date.now();
      await apiserver.kill();
      await new Promise((r) => setTimeout(r, outageMs));
      const healthyDuringOutage = await isHealthy(operator);
      const restartAt = Date.now();
      await apiserver.start();
      const readyAt = Date.now();
      await world.eventually("the operator leads again", () => isLeading(operator), 120_000);
      const leadingAt = Date.now();
      await world.eventually(
        "the rollout moves again",
        async () => {
          const now = (await world.progress()).active;
          return now > active || now === FIRST_WAVE;
        },
        180_000,
      );
      const movingAt = Date.now();
      recoveries.push(movingAt - readyAt);
      restarts.push(
        `SIGKILL with ${active}/${FIRST_WAVE} Active, down ${seconds(restartAt - killedAt)} (operator /healthz during the outage: ${healthyDuringOutage ? 200 : "no answer"}); apiserver ready ${seconds(readyAt - restartAt)} after its start; operator leads ${seconds(leadingAt - readyAt)} and the rollout moves ${seconds(movingAt - readyAt)} after that`,
      );
    }
    await world.allActive(FIRST_WAVE, 600_000);
    const firstWaveAt = Date.now();
    // Only a reconnected watch can tell the operator about these.
    await world.createSubscriptions(subscriptionNames(AFTER_RESTARTS, "after"));
    await world.allActive(TOTAL, 300_000);
    const converged = Date.now();
    const { problems, counts } = await world.agreement(90_000);
    console.log(
      [
        "kube-apiserver restarts during a rollout:",
        ...restarts.map((r) => `  ${r}`),
        `  restarts: ${OUTAGES_MS.length}; the operator ran as one process throughout (${operator.identity})`,
        `  first wave all Active ${seconds(firstWaveAt - started)} after create; ${AFTER_RESTARTS} created after the restarts were Active ${seconds(converged - firstWaveAt)} later`,
        `  Kong: ${counts.consumers} consumers, ${counts.keyAuths} key-auth credentials; read model: ${counts.rows} Subscription rows`,
      ].join("\n"),
    );
    expect(summarize(problems)).toBe("no problems");
    expect(world.operator).toBe(operator);
    expect(await isHealthy(operator)).toBe(true);
    expect(recoveries).toHaveLength(OUTAGES_MS.length);
    expect(await keysWork(world, ["sub-000-credentials", "after-019-credentials"])).toEqual([]);
  });
});
