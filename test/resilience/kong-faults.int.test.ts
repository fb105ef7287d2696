/**
 * Resilience: Kong's Admin API fails while Subscriptions roll out — 5xx answers at random, slow answers,
 * refused connections, bursts of 503 — and recovers. The rollout must converge with nothing duplicated or
 * lost in Kong.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { FaultStatus } from "../kong/faults.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { summarize } from "./invariants.ts";
import { createWorld, keysWork, seconds, subscriptionNames, type World } from "./portal-world.ts";

const SUBSCRIPTIONS = 120;
/** Each fault lasts at least this long, and until REQUESTS_PER_PHASE Admin API requests met it… */
const PHASE_MS = 3_000;
const REQUESTS_PER_PHASE = 10;
/** …but never longer than this. */
const PHASE_MAX_MS = 60_000;

/** One fault of the schedule. */
type Fault =
  | { kind: "5xx"; rate: number; status: FaultStatus }
  | { kind: "burst"; count: number; status: FaultStatus }
  | { kind: "latency"; ms: number }
  | { kind: "refused" };

/** The schedule, run twice over the rollout. */
const SCHEDULE: Fault[] = [
  { kind: "5xx", rate: 0.3, status: 500 },
  { kind: "latency", ms: 400 },
  { kind: "refused" },
  { kind: "5xx", rate: 0.5, status: 502 },
  { kind: "burst", count: 25, status: 503 },
  { kind: "latency", ms: 1_500 },
];

const describeFault = (f: Fault): string =>
  f.kind === "5xx"
    ? `${f.rate * 100}% ${f.status}`
    : f.kind === "burst"
      ? `next ${f.count} answers ${f.status}`
      : f.kind === "latency"
        ? `${f.ms} ms latency`
        : "connections refused";

let database: TestDatabase;
let world: World;

beforeAll(async () => {
  database = await createTestDatabase(inject("databaseUrl"));
  world = await createWorld({
    kubeconfig: inject("kubeconfig"),
    databaseUrl: database.url,
    prefix: "kongfaults",
    operatorEnv: { WICKED_GATEWAY_RESYNC_SECONDS: "5" },
  });
});

afterAll(async () => {
  await world?.kong.faults.clear();
  await world?.stop();
  await database?.drop();
});

describe("Kong Admin API faults during a rollout", () => {
  it(`converges on ${SUBSCRIPTIONS} Active Subscriptions with exactly one Kong consumer and key each`, {
    timeout: 1_200_000,
  }, async () => {
    const { kong } = world;
    const requestsBefore = kong.adminRequests.length;
    const started = Date.now();
    await world.createSubscriptions(subscriptionNames(SUBSCRIPTIONS));

    // Faults only mean something while the operator talks to Kong: start once it programs subscriptions.
    const writesBefore = kong.writes;
    await world.eventually("the operator programs Kong", () => kong.writes >= writesBefore + 8, 600_000);
    const activeAtFirstFault = (await world.progress()).active;

    const phases: string[] = [];
    let refusedMs = 0;
    let delayedRequests = 0;
    let outageSeen = false;
    for (const fault of [...SCHEDULE, ...SCHEDULE]) {
      const requestsAtStart = kong.adminRequests.length;
      const phaseStart = Date.now();
      const met = () => kong.adminRequests.length - requestsAtStart;
      if (fault.kind === "5xx") kong.faults.failRate(fault.rate, fault.status);
      else if (fault.kind === "burst") kong.faults.failNext(fault.count, fault.status);
      else if (fault.kind === "latency") kong.faults.delay(fault.ms);
      else await kong.faults.refuseConnections();
      let seenThisTime = false;
      // A phase lasts at least PHASE_MS, and until REQUESTS_PER_PHASE requests met it (an outage: until the
      // portal shows it), but no longer than PHASE_MAX_MS.
      for (;;) {
        const elapsed = Date.now() - phaseStart;
        if (fault.kind === "refused" && !seenThisTime)
          seenThisTime = (await world.portalCondition("GatewaySynced"))?.status === "False";
        const enough = fault.kind === "refused" ? seenThisTime : met() >= REQUESTS_PER_PHASE;
        if ((elapsed >= PHASE_MS && enough) || elapsed >= PHASE_MAX_MS) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      outageSeen ||= seenThisTime;
      if (fault.kind === "refused") refusedMs += Date.now() - phaseStart;
      if (fault.kind === "latency") delayedRequests += met();
      const requests = met();
      await kong.faults.clear();
      const { active } = await world.progress();
      phases.push(
        `${describeFault(fault)} for ${seconds(Date.now() - phaseStart)}: ${fault.kind === "refused" ? `outage shown as GatewaySynced=False: ${seenThisTime}` : `${requests} requests met it`}, ${active} Active after`,
      );
    }
    const faultsEnded = Date.now();
    await world.allActive(SUBSCRIPTIONS, 600_000);
    const converged = Date.now();
    const { problems, counts } = await world.agreement(90_000);
    const answered = kong.adminRequests.slice(requestsBefore);
    console.log(
      [
        `Kong faults during a rollout of ${SUBSCRIPTIONS} Subscriptions:`,
        ...phases.map((p) => `  ${p}`),
        `  faults: ${kong.faults.injected} injected 5xx answers, ${seconds(refusedMs)} of refused connections in 2 windows, ${delayedRequests} delayed answers`,
        `  Admin API requests answered: ${answered.length} (${answered.filter((r) => r.status >= 500).length} with 5xx), writes: ${kong.writes}`,
        `  Active when the faults began: ${activeAtFirstFault}/${SUBSCRIPTIONS}; GatewaySynced=False shown during an outage: ${outageSeen}`,
        `  recovery, faults end -> all Active: ${seconds(converged - faultsEnded)}; create -> all Active: ${seconds(converged - started)}`,
        `  Kong: ${counts.consumers} consumers, ${counts.keyAuths} key-auth credentials, ${counts.acls} ACL entries, ${counts.rateLimitingPlugins} consumer rate-limiting plugins`,
      ].join("\n"),
    );
    expect(summarize(problems)).toBe("no problems");
    expect(kong.faults.injected).toBeGreaterThan(0);
    expect(delayedRequests).toBeGreaterThan(0);
    expect(activeAtFirstFault).toBeLessThan(SUBSCRIPTIONS);
    expect(outageSeen).toBe(true);
    expect(kong.unexpectedErrors).toEqual([]);
    expect(await keysWork(world, ["sub-000-credentials", "sub-119-credentials"])).toEqual([]);
  });
});
