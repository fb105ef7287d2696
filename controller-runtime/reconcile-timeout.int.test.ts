import pino from "pino";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import type { ControllerOptions } from "./controller.ts";
import { LEASE_GVK, type Lease } from "./leaderelection.ts";
import type { Manager, ManagerOptions } from "./manager.ts";
import {
  CONFIGMAP_GVK,
  clientFor,
  createNamespace,
  eventually,
  loadKubeConfig,
  startTestManager,
} from "./testing-cluster.ts";
import { type GroupVersionKind, type KubeObject, ReconcileTimeoutError } from "./types.ts";

const kc = loadKubeConfig(inject("kubeconfig"));
const { client } = clientFor(kc);
const logger = pino({ level: process.env.DEBUG_RT ? "debug" : "silent" });
const SECRET: GroupVersionKind = { group: "", version: "v1", kind: "Secret", plural: "secrets" };

/**
 * A database that does not answer: every query waits until the test releases it (and ignores any signal,
 * like a driver that cannot be cancelled); once released, queries answer at once.
 */
class StalledDatabase {
  /** Queries asked so far. */
  queries = 0;
  private answered = false;
  private answer: () => void = () => {};
  private readonly answers = new Promise<void>((resolve) => {
    this.answer = resolve;
  });

  query(): Promise<void> {
    this.queries++;
    return this.answered ? Promise.resolve() : this.answers;
  }

  release(): void {
    this.answered = true;
    this.answer();
  }
}

let ns: { name: string; remove(): Promise<void> };
let database: StalledDatabase;
const managers: Manager[] = [];

beforeEach(async () => {
  ns = await createNamespace(client, "rt-timeout");
  database = new StalledDatabase();
});
afterEach(async () => {
  database.release();
  await Promise.all(managers.splice(0).map((m) => m.stop()));
  await ns.remove();
});

/**
 * One worker over ConfigMaps; the ConfigMap `hung` queries the database. Each reconcile that gets through
 * writes the Secret `<name>-done` through its context's client, and records its signal.
 */
function hangingController(
  signals: AbortSignal[],
  extra: Partial<ControllerOptions> = {},
): ControllerOptions {
  return {
    name: "hang",
    for: CONFIGMAP_GVK,
    concurrency: 1,
    backoff: { baseMs: 100, capMs: 1_000, jitter: 0 },
    reconcile: async (key, ctx) => {
      signals.push(ctx.signal);
      if (key.name === "hung") await database.query();
      await ctx.client.apply({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { namespace: key.namespace, name: `${key.name}-done` },
        stringData: { reconciled: "yes" },
      } as KubeObject);
      return {};
    },
    ...extra,
  };
}

const startManager = (opts: Partial<ManagerOptions> & Pick<ManagerOptions, "controllers">) =>
  startTestManager(kc, logger, ns.name, opts, managers);

async function metric(m: Manager, series: string): Promise<number> {
  const text = await (await fetch(`${m.metricsUrl}/metrics`)).text();
  const escaped = series.replace(/[{}"=]/g, (c) => `\\${c}`);
  const value = text.match(new RegExp(`^${escaped} (\\S+)$`, "m"))?.[1];
  if (value === undefined) throw new Error(`/metrics has no series ${series}`);
  return Number(value);
}

const configMap = (name: string) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { namespace: ns.name, name },
  data: { value: "1" },
});
const done = (name: string) => client.get(SECRET, { namespace: ns.name, name: `${name}-done` });

describe("Reconcile time limit", () => {
  it("frees the worker of a reconcile that hangs, counts the timeout, and reconciles the object once the hang ends", async () => {
    const signals: AbortSignal[] = [];
    const m = await startManager({ reconcileTimeoutMs: 1_000, controllers: [hangingController(signals)] });
    await client.apply(configMap("hung"));
    await eventually("the reconcile of hung to query the database", () => database.queries > 0);

    // One worker, held by hung: other is reconciled only because the runtime gave up on hung.
    await client.apply(configMap("other"));
    await eventually("other to be reconciled while hung hangs", () => done("other"), 15_000);
    const first = signals[0];
    expect(first?.aborted).toBe(true);
    expect(first?.reason).toBeInstanceOf(ReconcileTimeoutError);
    expect(await metric(m, `controller_runtime_reconcile_timeouts_total{controller="hang"}`)).toBeGreaterThan(
      0,
    );
    expect(
      await metric(m, `controller_runtime_reconcile_total{controller="hang",result="error"}`),
    ).toBeGreaterThan(0);
    expect(await metric(m, `controller_runtime_abandoned_reconciles{controller="hang"}`)).toBeGreaterThan(0);
    // Retried with backoff while the database still does not answer.
    await eventually("hung to be retried", () => database.queries >= 2, 15_000);
    expect(await done("hung")).toBeUndefined();

    database.release();
    // The abandoned attempts now go on to write, and are refused; a later retry writes.
    await eventually("hung to be reconciled by a retry", () => done("hung"), 15_000);
    await eventually(
      "the abandoned reconciles to end",
      async () => (await metric(m, `controller_runtime_abandoned_reconciles{controller="hang"}`)) === 0,
    );
    expect(await metric(m, `workqueue_unfinished_work_seconds{name="hang",controller="hang"}`)).toBeLessThan(
      1,
    );
  });

  it("stops within the grace period while a reconcile still hangs, and releases the Lease", async () => {
    const signals: AbortSignal[] = [];
    const grace = 1_500;
    const m = await startManager({
      gracefulShutdownTimeoutMs: grace,
      reconcileTimeoutMs: 60_000,
      controllers: [hangingController(signals)],
      leaderElection: {
        namespace: ns.name,
        name: "timeout",
        identity: "m",
        leaseDurationSeconds: 6,
        renewDeadlineSeconds: 4,
        retryPeriodSeconds: 1,
      },
    });
    await client.apply(configMap("hung"));
    await eventually("the reconcile of hung to query the database", () => database.queries > 0);
    const started = Date.now();
    await m.stop();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(grace - 50);
    expect(took).toBeLessThan(grace + 3_000);
    expect(signals[0]?.aborted).toBe(true);
    const lease = await client.get<Lease>(LEASE_GVK, { namespace: ns.name, name: "timeout" });
    expect(lease?.spec?.holderIdentity).toBe("");
    expect(await done("hung")).toBeUndefined();
  });
});
