import pino from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { EVENT_GVK } from "./events.ts";
import { Informer, type InformerHandler, type WatchFn } from "./informer.ts";
import { apiserverListWatch } from "./listwatch.ts";
import {
  ApiserverProxy,
  CONFIGMAP_GVK,
  clientFor,
  compactEtcd,
  createNamespace,
  eventually,
  loadKubeConfig,
  localEtcdUrl,
} from "./testing-cluster.ts";
import type { KubeObject } from "./types.ts";

const kubeconfig = inject("kubeconfig");
const kc = loadKubeConfig(kubeconfig);
const { client, rest } = clientFor(kc);
const logger = pino({ level: process.env.DEBUG_RT ? "debug" : "silent" });
let ns: { name: string; remove(): Promise<void> };

beforeAll(async () => {
  ns = await createNamespace(client, "rt-informer");
});
afterAll(async () => {
  await ns.remove();
});

function recording() {
  const events: string[] = [];
  const handler: InformerHandler = {
    onAdd: (o) => events.push(`add ${o.metadata.name}`),
    onUpdate: (a, b) =>
      events.push(`update ${b.metadata.name} ${a.metadata.resourceVersion}->${b.metadata.resourceVersion}`),
    onDelete: (o) => events.push(`delete ${o.metadata.name}`),
  };
  return { events, handler };
}

type ConfigMap = KubeObject & { data?: Record<string, string> };

const configMap = (name: string, value: string) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { namespace: ns.name, name },
  data: { value },
});

describe("Informer against the apiserver", () => {
  it("syncs the cache and delivers adds, updates and deletes as they happen", async () => {
    await client.apply(configMap("before", "1"));
    const informer = new Informer(CONFIGMAP_GVK, {
      ...apiserverListWatch(rest, CONFIGMAP_GVK, { namespace: ns.name }),
      logger,
    });
    const { events, handler } = recording();
    informer.addHandler(handler);
    informer.start();
    try {
      await informer.waitForSync();
      expect(informer.get({ namespace: ns.name, name: "before" })).toMatchObject({ data: { value: "1" } });
      expect(events).toContain("add before");
      await client.apply(configMap("after", "1"));
      await client.apply(configMap("before", "2"));
      await client.delete(CONFIGMAP_GVK, { namespace: ns.name, name: "after" });
      await eventually("the delete to arrive", () => events.includes("delete after"));
      expect(events.filter((e) => !e.startsWith("add kube-root-ca"))).toEqual([
        "add before",
        "add after",
        expect.stringMatching(/^update before \d+->\d+$/),
        "delete after",
      ]);
      expect(informer.get({ namespace: ns.name, name: "before" })).toMatchObject({ data: { value: "2" } });
      expect(informer.get({ namespace: ns.name, name: "after" })).toBeUndefined();
      const latest = await client.get<KubeObject>(CONFIGMAP_GVK, { namespace: ns.name, name: "before" });
      expect(Number(informer.lastSyncResourceVersion)).toBeGreaterThanOrEqual(
        Number(latest?.metadata.resourceVersion),
      );
    } finally {
      await informer.stop();
    }
  });

  it("keeps a quiet watch open past client-node's 30 s inactivity timeout, and delivers a change at once", async () => {
    const warnings: string[] = [];
    const watching = pino({ level: "warn" }, { write: (line: string) => void warnings.push(line) });
    const { list, watch } = apiserverListWatch(rest, CONFIGMAP_GVK, { namespace: ns.name });
    let watches = 0;
    const counted: WatchFn = (req, onEvent, onDone) => {
      watches += 1;
      return watch(req, onEvent, onDone);
    };
    const informer = new Informer(CONFIGMAP_GVK, { list, watch: counted, logger: watching });
    const { events, handler } = recording();
    informer.addHandler(handler);
    informer.start();
    try {
      await informer.waitForSync();
      await new Promise((r) => setTimeout(r, 40_000));
      expect(warnings).toEqual([]);
      expect(watches).toBe(1);
      await client.apply(configMap("after-quiet", "1"));
      await eventually("the change after a quiet minute", () => events.includes("add after-quiet"), 5_000);
    } finally {
      await informer.stop();
    }
  }, 90_000);

  it("reconnects after the connection to the apiserver broke, and delivers what changed meanwhile", async () => {
    const proxy = await ApiserverProxy.start(kc);
    const cut = clientFor(proxy.cluster);
    const informer = new Informer(CONFIGMAP_GVK, {
      ...apiserverListWatch(cut.rest, CONFIGMAP_GVK, { namespace: ns.name }),
      logger,
      backoff: { baseMs: 200, capMs: 1000, jitter: 0.2 },
    });
    const { events, handler } = recording();
    informer.addHandler(handler);
    informer.start();
    try {
      await informer.waitForSync();
      proxy.partition();
      await client.apply(configMap("while-cut", "1"));
      await client.apply(configMap("before", "while-cut"));
      await new Promise((r) => setTimeout(r, 1500));
      expect(events).not.toContain("add while-cut");
      proxy.restore();
      await eventually("the changes made while cut off", () => events.includes("add while-cut"), 30_000);
      await eventually(
        "the update made while cut off",
        () =>
          (informer.get({ namespace: ns.name, name: "before" }) as ConfigMap | undefined)?.data?.value ===
          "while-cut",
      );
    } finally {
      await informer.stop();
      await proxy.close();
    }
  });

  // The apiserver serves ConfigMap watches from its watch cache, which remembers far back; Events are served
  // from etcd, so compacting etcd makes the apiserver itself answer an old resourceVersion with 410 Gone.
  const etcd = localEtcdUrl(kubeconfig);
  it.runIf(etcd)(
    "misses no update when the apiserver expires its watch with 410 Gone (etcd compacted)",
    async () => {
      const event = (name: string) => ({
        apiVersion: "events.k8s.io/v1",
        kind: "Event",
        metadata: { namespace: ns.name, name },
        eventTime: "2025-01-01T00:00:00.000000Z",
        reportingController: "wicked.dev/test",
        reportingInstance: "test",
        action: "Test",
        reason: "Tested",
        type: "Normal",
        note: "first",
        regarding: { apiVersion: "v1", kind: "ConfigMap", namespace: ns.name, name: "subject" },
      });
      const key = (name: string) => ({ namespace: ns.name, name });
      await client.create(event("kept"));
      await client.create(event("changed"));
      await client.create(event("deleted"));
      const real = apiserverListWatch(rest, EVENT_GVK, { namespace: ns.name });
      const watchedFrom: string[] = [];
      const expiredWith: unknown[] = [];
      let outage = true;
      // The first watch starts only after the world moved on and etcd forgot the list's resourceVersion.
      const watch: WatchFn = async (req, onEvent, onDone) => {
        watchedFrom.push(req.resourceVersion);
        if (outage) {
          outage = false;
          await client.patchMerge(EVENT_GVK, key("changed"), { metadata: { labels: { step: "second" } } });
          await client.delete(EVENT_GVK, key("deleted"));
          const created = await client.create<KubeObject>(event("created"));
          await compactEtcd(etcd ?? "", created.metadata.resourceVersion ?? "");
        }
        return real.watch(
          req,
          (type, obj) => {
            if (type === "ERROR") expiredWith.push(obj);
            onEvent(type, obj);
          },
          onDone,
        );
      };
      const informer = new Informer(EVENT_GVK, { list: real.list, watch, logger });
      const { events, handler } = recording();
      informer.addHandler(handler);
      informer.start();
      try {
        await informer.waitForSync();
        await eventually(
          "the relist after 410 to deliver the changes",
          () => events.includes("add created"),
          30_000,
        );
        expect(expiredWith).toEqual([expect.objectContaining({ kind: "Status", code: 410 })]);
        expect(events.slice(0, 3).sort()).toEqual(["add changed", "add deleted", "add kept"]);
        expect(events.slice(3).sort()).toEqual([
          "add created",
          "delete deleted",
          expect.stringMatching(/^update changed \d+->\d+$/),
        ]);
        expect(informer.get(key("changed"))?.metadata.labels).toEqual({ step: "second" });
        expect(informer.get(key("deleted"))).toBeUndefined();
        await eventually("the watch to restart from the relist", () => watchedFrom.length >= 2);
        expect(Number(watchedFrom[1])).toBeGreaterThan(Number(watchedFrom[0]));
        await client.patchMerge(EVENT_GVK, key("kept"), { metadata: { labels: { step: "after-relist" } } });
        await eventually("events to flow again after the relist", () =>
          events.some((e) => e.startsWith("update kept")),
        );
      } finally {
        await informer.stop();
      }
    },
  );
});
