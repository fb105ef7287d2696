import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "./errors.ts";
import { Informer, type ListPage, type WatchRequest } from "./informer.ts";
import type { KubeObject } from "./types.ts";

const CM = { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps" };
const logger = pino({ level: "silent" });

function cm(name: string, rv: number, data = "x"): KubeObject & { data: Record<string, string> } {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { namespace: "ns", name, resourceVersion: String(rv) },
    data: { v: data },
  };
}

interface FakeWatch {
  req: WatchRequest;
  send(type: string, obj: unknown): void;
  end(err?: unknown): void;
  stopped: boolean;
}

/** A scripted apiserver: `state` is what a list returns; each watch call is recorded for the test to drive. */
class FakeServer {
  state = new Map<string, KubeObject>();
  rv = 10;
  listCalls = 0;
  listFailures = 0;
  readonly watches: FakeWatch[] = [];
  /** Called on each watch; return an error to reject the watch call (client-node's non-200 form). */
  watchError: (() => unknown) | undefined;

  put(obj: KubeObject) {
    this.state.set(obj.metadata.name ?? "", obj);
  }

  list = async ({ limit, continue: token }: { limit: number; continue?: string }): Promise<ListPage> => {
    this.listCalls++;
    if (this.listFailures > 0) {
      this.listFailures--;
      throw new Error("connection refused");
    }
    const all = [...this.state.values()];
    const start = token ? Number(token) : 0;
    const items = all.slice(start, start + limit);
    const next = start + limit < all.length ? String(start + limit) : undefined;
    return { items: structuredClone(items), resourceVersion: String(this.rv), continue: next };
  };

  watch = async (
    req: WatchRequest,
    onEvent: (t: string, o: unknown) => void,
    onDone: (err: unknown) => void,
  ) => {
    const err = this.watchError?.();
    if (err) throw err;
    const w: FakeWatch = {
      req,
      stopped: false,
      send: (type, obj) => {
        if (!w.stopped) onEvent(type, structuredClone(obj));
      },
      end: (e) => {
        if (!w.stopped) onDone(e ?? null);
      },
    };
    this.watches.push(w);
    return {
      stop: () => {
        w.stopped = true;
      },
    };
  };

  lastWatch(): FakeWatch {
    const w = this.watches.at(-1);
    if (!w) throw new Error("no watch yet");
    return w;
  }
}

function recorder() {
  const events: string[] = [];
  return {
    events,
    handler: {
      onAdd: (o: KubeObject) => events.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}`),
      onUpdate: (a: KubeObject, b: KubeObject) =>
        events.push(`update ${b.metadata.name}@${a.metadata.resourceVersion}->${b.metadata.resourceVersion}`),
      onDelete: (o: KubeObject) => events.push(`delete ${o.metadata.name}@${o.metadata.resourceVersion}`),
    },
  };
}

const informers: Informer[] = [];
function start(server: FakeServer, pageSize = 500, optional = false) {
  const informer = new Informer(CM, {
    list: server.list,
    watch: server.watch,
    logger,
    pageSize,
    backoff: { baseMs: 20, capMs: 200, jitter: 0 },
    optional,
  });
  informers.push(informer);
  const rec = recorder();
  informer.addHandler(rec.handler);
  informer.start();
  return { informer, ...rec };
}

afterEach(async () => {
  await Promise.all(informers.splice(0).map((i) => i.stop()));
});

describe("Informer", () => {
  it("syncs from a paginated list, then watches from the list's resourceVersion with bookmarks", async () => {
    const server = new FakeServer();
    for (let i = 1; i <= 5; i++) server.put(cm(`c${i}`, i));
    const { informer, events } = start(server, 2);
    await informer.waitForSync();
    expect(informer.hasSynced).toBe(true);
    expect(server.listCalls).toBe(3);
    expect(events).toHaveLength(5);
    expect(informer.list("ns")).toHaveLength(5);
    expect(informer.list("other")).toHaveLength(0);
    expect(informer.get({ namespace: "ns", name: "c3" })?.metadata.resourceVersion).toBe("3");
    await vi.waitFor(() => expect(server.watches).toHaveLength(1));
    expect(server.lastWatch().req).toMatchObject({ resourceVersion: "10", allowWatchBookmarks: true });
    expect(server.lastWatch().req.timeoutSeconds).toBeGreaterThanOrEqual(300);
  });

  it("applies watch events to the cache, tells handlers, and tracks the resourceVersion including bookmarks", async () => {
    const server = new FakeServer();
    server.put(cm("a", 5));
    const { informer, events } = start(server);
    await vi.waitFor(() => expect(server.watches).toHaveLength(1));
    const w = server.lastWatch();
    w.send("ADDED", cm("b", 11));
    w.send("MODIFIED", cm("a", 12, "new"));
    w.send("DELETED", cm("b", 13));
    w.send("BOOKMARK", { kind: "ConfigMap", apiVersion: "v1", metadata: { resourceVersion: "20" } });
    expect(events).toEqual(["add a@5", "add b@11", "update a@5->12", "delete b@11"]);
    expect(informer.get({ namespace: "ns", name: "a" })).toMatchObject({ data: { v: "new" } });
    expect(informer.get({ namespace: "ns", name: "b" })).toBeUndefined();
    expect(informer.lastSyncResourceVersion).toBe("20");
    w.end();
    await vi.waitFor(() => expect(server.watches).toHaveLength(2));
    expect(server.lastWatch().req.resourceVersion).toBe("20");
    expect(server.listCalls).toBe(1);
  });

  it("relists on a 410 ERROR event and turns the difference into events, missing no update", async () => {
    const server = new FakeServer();
    server.put(cm("same", 1));
    server.put(cm("changed", 2));
    server.put(cm("gone", 3));
    const { informer, events } = start(server);
    await vi.waitFor(() => expect(server.watches).toHaveLength(1));
    events.length = 0;
    // While the watch was away: one object changed, one was deleted, one was created.
    server.put(cm("changed", 40, "v2"));
    server.state.delete("gone");
    server.put(cm("new", 41));
    server.rv = 41;
    server.lastWatch().send("ERROR", {
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      message: "too old resource version: 10 (35)",
      reason: "Expired",
      code: 410,
    });
    await vi.waitFor(() => expect(server.listCalls).toBe(2));
    await vi.waitFor(() => expect(server.watches).toHaveLength(2));
    expect(server.watches[0]?.stopped).toBe(true);
    expect(events.sort()).toEqual(["add new@41", "delete gone@3", "update changed@2->40"]);
    expect(informer.get({ namespace: "ns", name: "changed" })).toMatchObject({ data: { v: "v2" } });
    expect(server.lastWatch().req.resourceVersion).toBe("41");
  });

  it("relists when the watch request itself fails with HTTP 410 (client-node's error form)", async () => {
    const server = new FakeServer();
    server.put(cm("a", 1));
    const { events } = start(server);
    await vi.waitFor(() => expect(server.watches).toHaveLength(1));
    server.put(cm("a", 50));
    server.rv = 50;
    let once = true;
    server.watchError = () => {
      if (!once) return undefined;
      once = false;
      return new ApiError("WATCH /configmaps", 410, "Gone");
    };
    server.lastWatch().end();
    await vi.waitFor(() => expect(server.listCalls).toBe(2));
    await vi.waitFor(() => expect(server.watches).toHaveLength(2));
    expect(events).toEqual(["add a@1", "update a@1->50"]);
    expect(server.lastWatch().req.resourceVersion).toBe("50");
  });

  it("also relists when a running watch ends with a 410 error", async () => {
    const server = new FakeServer();
    const { informer } = start(server);
    await vi.waitFor(() => expect(server.watches).toHaveLength(1));
    server.lastWatch().end(new ApiError("WATCH /configmaps", 410, "Gone"));
    await vi.waitFor(() => expect(server.listCalls).toBe(2));
    expect(informer.hasSynced).toBe(true);
  });

  it("reconnects from the last resourceVersion after a failed watch, with growing backoff, without relisting", async () => {
    const server = new FakeServer();
    const { informer } = start(server);
    await vi.waitFor(() => expect(server.watches).toHaveLength(1));
    server.lastWatch().send("ADDED", cm("a", 15));
    let failures = 0;
    server.watchError = () =>
      failures++ < 3 ? new ApiError("WATCH /configmaps", 500, "Internal Server Error") : undefined;
    const started = performance.now();
    server.lastWatch().end(new Error("socket hang up"));
    await vi.waitFor(() => expect(server.watches).toHaveLength(2), { timeout: 5000 });
    // Backoff of 20, 40, 80 and 160 ms (jitter off) before the four attempts after the drop.
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(server.lastWatch().req.resourceVersion).toBe("15");
    expect(server.listCalls).toBe(1);
    expect(informer.get({ namespace: "ns", name: "a" })).toBeDefined();
  });

  it("retries a failed list with backoff and only then reports synced", async () => {
    const server = new FakeServer();
    server.listFailures = 2;
    server.put(cm("a", 1));
    const { informer } = start(server);
    expect(informer.hasSynced).toBe(false);
    await informer.waitForSync();
    expect(server.listCalls).toBe(3);
    expect(informer.list()).toHaveLength(1);
  });

  it("counts an optional kind the apiserver does not serve (404) as synced and empty, and lists it once it is served", async () => {
    const server = new FakeServer();
    let served = false;
    const list = server.list;
    server.list = async (opts) => {
      if (!served) {
        server.listCalls++;
        throw new ApiError("GET /apis/gateway.networking.k8s.io/v1/httproutes", 404, "NotFound");
      }
      return list(opts);
    };
    server.put(cm("a", 1));
    const { informer, events } = start(server, 500, true);
    await informer.waitForSync();
    expect(informer.list()).toEqual([]);
    await vi.waitFor(() => expect(server.listCalls).toBeGreaterThanOrEqual(2));
    served = true;
    await vi.waitFor(() => expect(events).toEqual(["add a@1"]));
    expect(informer.get({ namespace: "ns", name: "a" })).toBeDefined();
  });

  it("ignores events of a watch it stopped, and closes the watch on stop", async () => {
    const server = new FakeServer();
    const { informer, events } = start(server);
    await vi.waitFor(() => expect(server.watches).toHaveLength(1));
    const w = server.lastWatch();
    await informer.stop();
    expect(w.stopped).toBe(true);
    w.stopped = false;
    w.send("ADDED", cm("late", 99));
    expect(events).toEqual([]);
  });
});
