import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { InformerCache } from "./cache.ts";
import { Controller, type ControllerOptions, type ReconcileContext } from "./controller.ts";
import { ApiError } from "./errors.ts";
import type { EventRecorder } from "./events.ts";
import type { ListPage, WatchRequest } from "./informer.ts";
import { RuntimeMetrics } from "./metrics.ts";
import { FakeClient } from "./testing.ts";
import {
  type KubeObject,
  type ObjectKey,
  ReconcileTimeoutError,
  type Result,
  TerminalError,
} from "./types.ts";

const PORTAL = { group: "wicked.dev", version: "v1alpha1", kind: "ApiPortal", plural: "apiportals" };
const DEPLOYMENT = { group: "apps", version: "v1", kind: "Deployment", plural: "deployments" };
const SECRET = { group: "", version: "v1", kind: "Secret", plural: "secrets" };

type Send = (type: string, obj: KubeObject) => void;

/** Informers over fixed lists whose watches the test drives through `send[kind]`. */
function fakeCache(initial: Record<string, KubeObject[]>) {
  const send: Record<string, Send> = {};
  const cache = new InformerCache((gvk) => ({
    logger: pino({ level: "silent" }),
    list: async (): Promise<ListPage> => ({
      items: structuredClone(initial[gvk.kind] ?? []),
      resourceVersion: "1",
    }),
    watch: async (_req: WatchRequest, onEvent: (t: string, o: unknown) => void) => {
      send[gvk.kind] = (type, obj) => onEvent(type, obj);
      return { stop() {} };
    },
  }));
  return { cache, send };
}

const portal = (name: string, rv = 1): KubeObject => ({
  apiVersion: "wicked.dev/v1alpha1",
  kind: "ApiPortal",
  metadata: { namespace: "team", name, resourceVersion: String(rv), uid: `uid-${name}` },
});

const noEvents: EventRecorder = { event: async () => {} };

interface Harness {
  controller: Controller;
  client: FakeClient;
  metrics: RuntimeMetrics;
  send: Record<string, Send>;
  calls: string[];
  logs: Array<Record<string, unknown>>;
}

const running: Controller[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.halt({ abort: true, timeoutMs: 1000 })));
});

async function harness(
  reconcile: (key: ObjectKey, ctx: ReconcileContext) => Promise<Result>,
  extra: Partial<ControllerOptions> = {},
  initial: Record<string, KubeObject[]> = { ApiPortal: [portal("a"), portal("b")] },
): Promise<Harness> {
  const { cache, send } = fakeCache(initial);
  const metrics = new RuntimeMetrics();
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split("\n").filter(Boolean)) logs.push(JSON.parse(line));
      cb();
    },
  });
  const calls: string[] = [];
  const client = new FakeClient();
  const controller = new Controller(
    {
      name: "apiportal",
      for: PORTAL,
      backoff: { baseMs: 10, capMs: 100, jitter: 0 },
      reconcile: async (key, ctx) => {
        calls.push(`${key.namespace}/${key.name}`);
        return reconcile(key, ctx);
      },
      ...extra,
    },
    {
      client,
      cache,
      recorder: noEvents,
      logger: pino({ level: "debug" }, sink),
      metrics,
      now: () => new Date(),
    },
  );
  cache.start();
  await cache.waitForSync();
  controller.start();
  running.push(controller);
  return { controller, client, metrics, send, calls, logs };
}

async function counter(
  metrics: RuntimeMetrics,
  name:
    | "reconcileTotal"
    | "reconcileErrors"
    | "terminalReconcileErrors"
    | "reconcileTimeouts"
    | "abandonedReconciles",
) {
  const { values } = await metrics[name].get();
  return Object.fromEntries(
    values.map((v) => [(v.labels as Record<string, unknown>).result ?? "all", v.value]),
  );
}

/** A test double of a dependency that never answers until the test releases it; it ignores every signal. */
function stall(): { answer: Promise<void>; release(): void } {
  let release = () => {};
  const answer = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { answer, release };
}

const slowly = { timeout: 5_000 };

describe("Controller", () => {
  it("reconciles every cached primary when it starts, then each changed primary", async () => {
    const h = await harness(async () => ({}));
    await vi.waitFor(() => expect(h.calls.sort()).toEqual(["team/a", "team/b"]));
    h.send.ApiPortal?.("MODIFIED", portal("a", 2));
    await vi.waitFor(() => expect(h.calls).toHaveLength(3));
    expect(h.calls[2]).toBe("team/a");
    expect(await counter(h.metrics, "reconcileTotal")).toMatchObject({ success: 3, error: 0 });
  });

  it("maps an owned object's events to its controller owner, and watched objects through the mapper", async () => {
    const h = await harness(
      async () => ({}),
      {
        owns: [DEPLOYMENT],
        watches: [
          { gvk: SECRET, map: (obj) => [{ namespace: "team", name: obj.metadata.labels?.portal ?? "" }] },
        ],
      },
      { ApiPortal: [] },
    );
    h.send.Deployment?.("ADDED", {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        namespace: "team",
        name: "portal-ui",
        resourceVersion: "5",
        ownerReferences: [
          { apiVersion: "wicked.dev/v1alpha1", kind: "ApiPortal", name: "main", uid: "u", controller: true },
        ],
      },
    });
    h.send.Deployment?.("ADDED", {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { namespace: "team", name: "unowned", resourceVersion: "6" },
    });
    h.send.Secret?.("ADDED", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { namespace: "team", name: "db", resourceVersion: "7", labels: { portal: "other" } },
    });
    await vi.waitFor(() => expect(h.calls.sort()).toEqual(["team/main", "team/other"]));
  });

  it("retries a failing key with growing backoff, counts the errors, and forgets the failures on success", async () => {
    let failures = 3;
    const times: number[] = [];
    const h = await harness(
      async () => {
        times.push(performance.now());
        if (failures-- > 0) throw new Error("apiserver unavailable");
        return {};
      },
      {},
      { ApiPortal: [portal("a")] },
    );
    await vi.waitFor(() => expect(h.calls).toHaveLength(4));
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(9);
    expect(gaps[1]).toBeGreaterThanOrEqual(19);
    expect(gaps[2]).toBeGreaterThanOrEqual(39);
    expect(await counter(h.metrics, "reconcileTotal")).toMatchObject({ error: 3, success: 1 });
    expect(await counter(h.metrics, "reconcileErrors")).toEqual({ all: 3 });
    const error = h.logs.find((l) => l.msg === "Failed to reconcile ApiPortal; retrying with backoff");
    expect(error).toMatchObject({ level: 50, controller: "apiportal", namespace: "team", name: "a" });
  });

  it("reads again after a Conflict (a write from a stale read), without counting an error", async () => {
    let conflicts = 2;
    const h = await harness(
      async () => {
        if (conflicts-- > 0) throw new ApiError("PATCH /apis/wicked.dev/…/status", 409, "Conflict");
        return {};
      },
      {},
      { ApiPortal: [portal("a")] },
    );
    await vi.waitFor(() => expect(h.calls).toHaveLength(3));
    expect(await counter(h.metrics, "reconcileTotal")).toMatchObject({ requeue: 2, success: 1 });
    expect(await counter(h.metrics, "reconcileErrors")).toEqual({ all: 0 });
    expect(h.logs.filter((l) => Number(l.level) >= 50)).toEqual([]);
  });

  it("does not retry a terminal error, and counts it", async () => {
    const h = await harness(
      async () => {
        throw new TerminalError("spec.database.secretRef names no Secret");
      },
      {},
      { ApiPortal: [portal("a")] },
    );
    await vi.waitFor(() => expect(h.calls).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 100));
    expect(h.calls).toHaveLength(1);
    expect(await counter(h.metrics, "terminalReconcileErrors")).toEqual({ all: 1 });
    expect(await counter(h.metrics, "reconcileErrors")).toEqual({ all: 1 });
    expect(await counter(h.metrics, "reconcileTotal")).toMatchObject({ error: 1 });
  });

  it("reconciles every primary again after the resync period, without any change", async () => {
    const h = await harness(async () => ({}), { resyncPeriodMs: 40 }, { ApiPortal: [portal("a")] });
    await vi.waitFor(() => expect(h.calls.length).toBeGreaterThanOrEqual(3));
    expect(new Set(h.calls)).toEqual(new Set(["team/a"]));
  });

  it("requeues after requeueAfterMs", async () => {
    const h = await harness(async () => ({ requeueAfterMs: 30 }), {}, { ApiPortal: [portal("a")] });
    await vi.waitFor(() => expect(h.calls.length).toBeGreaterThanOrEqual(3));
    expect(await counter(h.metrics, "reconcileTotal")).toMatchObject({ requeue_after: expect.any(Number) });
    expect((await counter(h.metrics, "reconcileTotal")).requeue_after).toBeGreaterThanOrEqual(2);
  });

  it("gives each reconcile a child logger with controller, namespace, name and a unique reconcileID", async () => {
    const h = await harness(async (_key, ctx) => {
      ctx.log.info("Reconciled ApiPortal");
      return {};
    });
    await vi.waitFor(() => expect(h.calls).toHaveLength(2));
    const lines = h.logs.filter((l) => l.msg === "Reconciled ApiPortal" && l.level === 30);
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).toMatchObject({ controller: "apiportal", controllerKind: "ApiPortal", namespace: "team" });
      expect(line.reconcileID).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(lines[0]?.reconcileID).not.toBe(lines[1]?.reconcileID);
  });

  it("on halt with abort: aborts the in-flight reconcile's signal, waits for it, and takes no new keys", async () => {
    let release: () => void = () => {};
    let signal: AbortSignal | undefined;
    const h = await harness(
      (_key, ctx) => {
        signal = ctx.signal;
        return new Promise<Result>((resolve) => {
          release = () => resolve({});
        });
      },
      {},
      { ApiPortal: [portal("a")] },
    );
    await vi.waitFor(() => expect(h.calls).toHaveLength(1));
    let halted = false;
    const halting = h.controller.halt({ abort: true, timeoutMs: 10_000 }).then(() => {
      halted = true;
    });
    expect(signal?.aborted).toBe(true);
    h.send.ApiPortal?.("MODIFIED", portal("b", 9));
    await new Promise((r) => setTimeout(r, 50));
    expect(halted).toBe(false);
    release();
    await halting;
    expect(h.calls).toEqual(["team/a"]);
    expect(h.controller.running).toBe(false);
  });
});

describe("Controller reconcile time limit", () => {
  it("abandons a reconcile past its limit: the worker takes the next key, the key is retried, the timeout counted and logged once", async () => {
    const database = stall();
    let hung: AbortSignal | undefined;
    const h = await harness(
      async (key, ctx) => {
        if (key.name === "a" && !hung) {
          hung = ctx.signal;
          await database.answer;
        }
        return {};
      },
      { reconcileTimeoutMs: 100 },
    );
    await vi.waitFor(() => expect(h.calls).toEqual(["team/a", "team/b", "team/a"]), slowly);
    expect(hung?.aborted).toBe(true);
    expect(hung?.reason).toBeInstanceOf(ReconcileTimeoutError);
    expect(hung?.reason).toMatchObject({ kind: "ApiPortal", key: "team/a", timeoutMs: 100 });
    expect(await counter(h.metrics, "reconcileTimeouts")).toEqual({ all: 1 });
    expect(await counter(h.metrics, "reconcileErrors")).toEqual({ all: 1 });
    expect(await counter(h.metrics, "reconcileTotal")).toMatchObject({ error: 1, success: 2 });
    expect(await counter(h.metrics, "abandonedReconciles")).toEqual({ all: 1 });
    const errors = h.logs.filter((l) => Number(l.level) >= 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      controller: "apiportal",
      namespace: "team",
      name: "a",
      timeoutMs: 100,
    });
    expect(errors[0]?.msg).toMatch(/ApiPortal team\/a.*0\.1 s/);

    database.release();
    await vi.waitFor(async () => expect(await counter(h.metrics, "abandonedReconciles")).toEqual({ all: 0 }));
    await new Promise((r) => setTimeout(r, 50));
    expect(h.calls).toHaveLength(3);
    expect(await counter(h.metrics, "reconcileTotal")).toMatchObject({ error: 1, success: 2 });
  });

  it("ignores the late result of an abandoned reconcile: the backoff of the newer attempts keeps counting", async () => {
    const database = stall();
    let attempt = 0;
    const h = await harness(
      async () => {
        attempt++;
        if (attempt === 1) {
          await database.answer;
          return {};
        }
        if (attempt === 2) {
          // The abandoned first attempt ends now, successfully, while this one is in flight.
          database.release();
          await new Promise((r) => setImmediate(r));
        }
        if (attempt <= 3) throw new Error("database still unavailable");
        return {};
      },
      { reconcileTimeoutMs: 100 },
      { ApiPortal: [portal("a")] },
    );
    await vi.waitFor(() => expect(h.calls).toHaveLength(4), slowly);
    expect(
      h.logs.some((l) => l.msg === "Abandoned reconcile of ApiPortal team/a ended; ignored its result"),
    ).toBe(true);
    const retries = h.logs.filter((l) => Number(l.level) >= 50).map((l) => l.retries);
    expect(retries).toEqual([1, 2, 3]);
  });

  it("never runs a second reconcile beside the current attempt of a key when an abandoned one ends", async () => {
    const database = stall();
    let attempt = 0;
    let inFlight = 0;
    let overlaps = 0;
    const h = await harness(
      async () => {
        attempt++;
        if (attempt === 1) {
          await database.answer;
          return {};
        }
        if (inFlight > 0) overlaps++;
        inFlight++;
        try {
          if (attempt === 2) {
            database.release();
            await new Promise((r) => setImmediate(r));
            // The key changes while this attempt runs: it must wait for this attempt, not take the free worker.
            h.send.ApiPortal?.("MODIFIED", portal("a", 2));
            await new Promise((r) => setTimeout(r, 20));
          }
          return {};
        } finally {
          inFlight--;
        }
      },
      { reconcileTimeoutMs: 300, concurrency: 2 },
      { ApiPortal: [portal("a")] },
    );
    await vi.waitFor(() => expect(h.calls).toHaveLength(3), slowly);
    await new Promise((r) => setTimeout(r, 50));
    expect(h.calls).toHaveLength(3);
    expect(overlaps).toBe(0);
    expect(await counter(h.metrics, "reconcileTimeouts")).toEqual({ all: 1 });
  });

  it("refuses the writes of a reconcile once it was abandoned, even one that ignores its signal", async () => {
    const database = stall();
    let late: unknown;
    let attempt = 0;
    const h = await harness(
      async (_key, ctx) => {
        if (++attempt > 1) return {};
        await database.answer;
        late = await ctx.client
          .apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { namespace: "team", name: "late" } })
          .catch((err: unknown) => err);
        return {};
      },
      { reconcileTimeoutMs: 50 },
      { ApiPortal: [portal("a")] },
    );
    await vi.waitFor(() => expect(h.calls).toHaveLength(2), slowly);
    database.release();
    await vi.waitFor(() => expect(late).toBeInstanceOf(ReconcileTimeoutError));
    expect(h.client.writes).toEqual([]);
  });

  it("refuses a limit that is not above zero", async () => {
    await expect(harness(async () => ({}), { reconcileTimeoutMs: 0 })).rejects.toThrow(RangeError);
  });
});
