import pino from "pino";
import { afterAll, afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import type { ControllerOptions } from "./controller.ts";
import { LEASE_GVK, type Lease } from "./leaderelection.ts";
import type { Manager, ManagerOptions } from "./manager.ts";
import { controllerReference } from "./owners.ts";
import {
  ApiserverProxy,
  CONFIGMAP_GVK,
  clientFor,
  createNamespace,
  eventually,
  loadKubeConfig,
  startTestManager,
} from "./testing-cluster.ts";
import { microTime } from "./time.ts";
import type { GroupVersionKind, KubeObject, ObjectKey } from "./types.ts";

const kc = loadKubeConfig(inject("kubeconfig"));
const { client } = clientFor(kc);
const logger = pino({ level: process.env.DEBUG_RT ? "debug" : "silent" });
const SECRET: GroupVersionKind = { group: "", version: "v1", kind: "Secret", plural: "secrets" };
const GADGET: GroupVersionKind = {
  group: "runtime.test.wicked.dev",
  version: "v1",
  kind: "Gadget",
  plural: "gadgets",
};
const CRD: GroupVersionKind = {
  group: "apiextensions.k8s.io",
  version: "v1",
  kind: "CustomResourceDefinition",
  plural: "customresourcedefinitions",
};
/** Short but not tight: the machine is shared, and renewals must survive a busy second or two. */
const LEASE = { leaseDurationSeconds: 6, renewDeadlineSeconds: 4, retryPeriodSeconds: 1 };

let ns: { name: string; remove(): Promise<void> };
const managers: Manager[] = [];
const proxies: ApiserverProxy[] = [];

beforeEach(async () => {
  ns = await createNamespace(client, "rt-manager");
});
afterEach(async () => {
  for (const p of proxies) p.restore();
  await Promise.all(managers.splice(0).map((m) => m.stop()));
  for (const p of proxies.splice(0)) await p.close();
  await ns.remove();
});
afterAll(async () => {
  await client.delete(CRD, { namespace: "", name: `${GADGET.plural}.${GADGET.group}` });
});

interface Reconciled {
  who: string;
  key: ObjectKey;
  at: number;
}

/** A ConfigMap controller that records who reconciled what, and when. */
function recordingController(
  who: string,
  log: Reconciled[],
  extra: Partial<ControllerOptions> = {},
): ControllerOptions {
  return {
    name: "configmap",
    for: CONFIGMAP_GVK,
    reconcile: async (key) => {
      log.push({ who, key, at: Date.now() });
      return {};
    },
    ...extra,
  };
}

const startManager = (opts: Partial<ManagerOptions> & Pick<ManagerOptions, "controllers">) =>
  startTestManager(kc, logger, ns.name, opts, managers);

const leaseKey = (name: string) => ({ namespace: ns.name, name });
const configMap = (name: string, value = "1") => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { namespace: ns.name, name },
  data: { value },
});

describe("Manager", () => {
  it("reports ready only once the informers synced, and serves the controller-runtime metrics", async () => {
    const log: Reconciled[] = [];
    const m = await startManager({
      controllers: [recordingController("m", log)],
      cacheKinds: [GADGET],
      leaderElection: { ...leaseKey("metrics"), identity: "metrics-0", ...LEASE },
    });
    expect((await fetch(`${m.healthUrl}/healthz`)).status).toBe(200);
    // Gadgets are not served yet, so that informer cannot list.
    const notReady = await fetch(`${m.healthUrl}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toMatch(/not synced/);
    await client.apply({
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: `${GADGET.plural}.${GADGET.group}` },
      spec: {
        group: GADGET.group,
        names: { kind: "Gadget", plural: "gadgets", singular: "gadget", listKind: "GadgetList" },
        scope: "Namespaced",
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
          },
        ],
      },
    });
    await eventually(
      "/readyz to turn 200",
      async () => (await fetch(`${m.healthUrl}/readyz`)).status === 200,
      45_000,
    );

    await client.apply(configMap("metered"));
    await eventually("the ConfigMap to be reconciled", () => log.some((r) => r.key.name === "metered"));
    const res = await fetch(`${m.metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const name of [
      "controller_runtime_reconcile_total",
      "controller_runtime_reconcile_errors_total",
      "controller_runtime_terminal_reconcile_errors_total",
      "controller_runtime_reconcile_time_seconds_bucket",
      "controller_runtime_max_concurrent_reconciles",
      "controller_runtime_active_workers",
      "workqueue_depth",
      "workqueue_adds_total",
      "workqueue_queue_duration_seconds_bucket",
      "workqueue_work_duration_seconds_bucket",
      "workqueue_retries_total",
      "workqueue_unfinished_work_seconds",
      "workqueue_longest_running_processor_seconds",
      "leader_election_master_status",
      "rest_client_requests_total",
      "process_cpu_user_seconds_total",
    ]) {
      expect(text, name).toMatch(new RegExp(`^${name}[{ ]`, "m"));
    }
    expect(text).toMatch(
      /^controller_runtime_reconcile_total\{controller="configmap",result="success"\} [1-9]/m,
    );
    expect(text).toMatch(/^workqueue_adds_total\{name="configmap",controller="configmap"\} [1-9]/m);
    expect(text).toMatch(/^controller_runtime_max_concurrent_reconciles\{controller="configmap"\} 1$/m);
    expect(text).toMatch(/^leader_election_master_status\{name="metrics"\} 1$/m);
  });

  it("reconciles the owner when an owned object changes, and a reconcile applied twice writes nothing", async () => {
    const log: Reconciled[] = [];
    const childVersions: string[] = [];
    await startManager({
      controllers: [
        {
          name: "parent",
          for: CONFIGMAP_GVK,
          owns: [SECRET],
          reconcile: async (key, ctx) => {
            log.push({ who: "m", key, at: Date.now() });
            const parent = ctx.cache.get<KubeObject>(CONFIGMAP_GVK, key);
            if (!parent || !key.name.startsWith("parent")) return {};
            const child = await ctx.client.apply<KubeObject & { stringData: Record<string, string> }>({
              apiVersion: "v1",
              kind: "Secret",
              metadata: {
                namespace: key.namespace,
                name: `${key.name}-child`,
                ownerReferences: [controllerReference(parent)],
              },
              stringData: { owner: key.name },
            });
            childVersions.push(child.metadata.resourceVersion ?? "");
            return {};
          },
        },
      ],
    });
    await client.apply(configMap("parent-a"));
    await eventually("the child Secret", () =>
      client.get(SECRET, { namespace: ns.name, name: "parent-a-child" }),
    );
    const before = log.filter((r) => r.key.name === "parent-a").length;
    // Someone else changes the child: its owner is reconciled again and puts its fields back.
    await client.patchMerge(
      SECRET,
      { namespace: ns.name, name: "parent-a-child" },
      { metadata: { labels: { touched: "yes" } } },
    );
    await eventually(
      "the owner to be reconciled for its child",
      () => log.filter((r) => r.key.name === "parent-a").length > before,
    );
    await eventually("the child to settle", async () => {
      const child = await client.get(SECRET, { namespace: ns.name, name: "parent-a-child" });
      return child?.metadata.resourceVersion === childVersions.at(-1);
    });
    // One more reconcile of the unchanged owner: its apply must not write (same resourceVersion).
    const settled = childVersions.length;
    await client.patchMerge(
      CONFIGMAP_GVK,
      { namespace: ns.name, name: "parent-a" },
      { metadata: { labels: { poke: "1" } } },
    );
    await eventually("another reconcile", () => childVersions.length > settled);
    expect(childVersions.at(-1)).toBe(childVersions.at(settled - 1));
  });
});

describe("Manager shutdown", () => {
  it("takes no new keys on stop, lets the in-flight reconcile finish, then releases the Lease", async () => {
    const log: Reconciled[] = [];
    let finish: () => void = () => {};
    let finished = false;
    const m = await startManager({
      controllers: [
        recordingController("m", log, {
          reconcile: async (key) => {
            log.push({ who: "m", key, at: Date.now() });
            if (key.name !== "slow") return {};
            await new Promise<void>((resolve) => {
              finish = resolve;
            });
            finished = true;
            return {};
          },
        }),
      ],
      leaderElection: { ...leaseKey("shutdown"), identity: "m", ...LEASE },
    });
    await client.apply(configMap("slow"));
    await eventually("the slow reconcile to start", () => log.some((r) => r.key.name === "slow"));
    let stopped = false;
    const stopping = m.stop().then(() => {
      stopped = true;
    });
    await client.apply(configMap("late"));
    await new Promise((r) => setTimeout(r, 1000));
    expect(stopped).toBe(false);
    const held = await client.get<Lease>(LEASE_GVK, leaseKey("shutdown"));
    expect(held?.spec?.holderIdentity).toBe("m");
    finish();
    await stopping;
    expect(finished).toBe(true);
    expect(log.some((r) => r.key.name === "late")).toBe(false);
    const released = await client.get<Lease>(LEASE_GVK, leaseKey("shutdown"));
    expect(released?.spec?.holderIdentity).toBe("");
    await expect(fetch(`${m.healthUrl}/healthz`)).rejects.toThrow();
  });

  it("bounds the wait for a reconcile that does not finish, and aborts its signal", async () => {
    let signal: AbortSignal | undefined;
    const m = await startManager({
      gracefulShutdownTimeoutMs: 500,
      controllers: [
        {
          name: "stuck",
          for: CONFIGMAP_GVK,
          reconcile: async (_key, ctx) => {
            signal = ctx.signal;
            return new Promise(() => {});
          },
        },
      ],
    });
    await client.apply(configMap("stuck"));
    await eventually("the stuck reconcile to start", () => signal);
    const started = Date.now();
    await m.stop();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(signal?.aborted).toBe(true);
  });
});

describe("Manager leader election", () => {
  it("lets exactly one of two managers reconcile, and hands over on a graceful stop", async () => {
    const log: Reconciled[] = [];
    const election = (identity: string) => ({ ...leaseKey("handover"), identity, ...LEASE });
    const a = await startManager({
      controllers: [recordingController("a", log)],
      leaderElection: election("a"),
    });
    await eventually("a to lead", () => a.isLeader);
    const b = await startManager({
      controllers: [recordingController("b", log)],
      leaderElection: election("b"),
    });
    for (let i = 0; i < 5; i++) await client.apply(configMap(`handover-${i}`));
    await eventually("all five reconciled", () => new Set(log.map((r) => r.key.name)).size >= 5);
    expect(b.isLeader).toBe(false);
    expect(new Set(log.map((r) => r.who))).toEqual(new Set(["a"]));

    await a.stop();
    const stoppedAt = Date.now();
    const lease = await client.get<Lease>(LEASE_GVK, leaseKey("handover"));
    expect(lease?.spec?.holderIdentity === "" || lease?.spec?.holderIdentity === "b").toBe(true);
    await eventually("b to take over", () => b.isLeader, 30_000);
    expect(Date.now() - stoppedAt).toBeLessThan(LEASE.leaseDurationSeconds * 1000);
    await client.apply(configMap("after-handover"));
    await eventually("b to reconcile", () =>
      log.some((r) => r.who === "b" && r.key.name === "after-handover"),
    );
    const after = await client.get<Lease>(LEASE_GVK, leaseKey("handover"));
    expect(after?.spec).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
  });

  it("takes over a Lease whose holder stopped renewing, once it expired", async () => {
    await client.create<Lease>({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: leaseKey("expiry"),
      spec: {
        holderIdentity: "crashed-replica",
        leaseDurationSeconds: LEASE.leaseDurationSeconds,
        acquireTime: microTime(new Date()),
        renewTime: microTime(new Date()),
        leaseTransitions: 3,
      },
    });
    const log: Reconciled[] = [];
    const startedAt = Date.now();
    const b = await startManager({
      controllers: [recordingController("b", log)],
      leaderElection: { ...leaseKey("expiry"), identity: "b", ...LEASE },
    });
    await client.apply(configMap("expiry"));
    const ledAt = await eventually(
      "b to take over the expired Lease",
      () => b.isLeader && Date.now(),
      45_000,
      50,
    );
    expect(ledAt - startedAt).toBeGreaterThanOrEqual(LEASE.leaseDurationSeconds * 1000);
    expect(log.filter((r) => r.at < startedAt + LEASE.leaseDurationSeconds * 1000)).toEqual([]);
    await eventually("b to reconcile", () => log.some((r) => r.key.name === "expiry"));
    const lease = await client.get<Lease>(LEASE_GVK, leaseKey("expiry"));
    expect(lease?.spec).toMatchObject({ holderIdentity: "b", leaseTransitions: 4 });
  });

  it("stops reconciling at once when the leader cannot renew, and the other replica takes over", async () => {
    const log: Reconciled[] = [];
    const election = (identity: string) => ({ ...leaseKey("partition"), identity, ...LEASE });
    const proxy = await ApiserverProxy.start(kc);
    proxies.push(proxy);
    const a = await startManager({
      cluster: proxy.cluster,
      controllers: [recordingController("a", log)],
      leaderElection: election("a"),
    });
    await eventually("a to lead", () => a.isLeader);
    const b = await startManager({
      controllers: [recordingController("b", log)],
      leaderElection: election("b"),
    });
    await client.apply(configMap("before-partition"));
    await eventually("a to reconcile", () =>
      log.some((r) => r.who === "a" && r.key.name === "before-partition"),
    );

    proxy.partition();
    const cutAt = Date.now();
    const lostAt = await eventually("a to step down", () => !a.isLeader && Date.now(), 30_000, 50);
    expect(lostAt - cutAt).toBeLessThan(LEASE.leaseDurationSeconds * 1000);
    await client.apply(configMap("during-partition"));
    await eventually("b to take over", () => b.isLeader, 30_000);
    await eventually(
      "b to reconcile",
      () => log.some((r) => r.who === "b" && r.key.name === "during-partition"),
      30_000,
    );
    expect(log.filter((r) => r.who === "a" && r.at > lostAt)).toEqual([]);
    expect(a.isLeader).toBe(false);
  });
});
