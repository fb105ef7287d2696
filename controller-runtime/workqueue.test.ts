import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { QueueMetrics } from "./metrics.ts";
import { WorkQueue } from "./workqueue.ts";

/** Resolves with the next key if one is ready now, or "nothing" if get() would have to wait. */
async function poll(queue: WorkQueue): Promise<string | undefined | "nothing"> {
  return Promise.race([
    queue.get(),
    new Promise<"nothing">((resolve) => setImmediate(() => resolve("nothing"))),
  ]);
}

describe("WorkQueue de-duplication", () => {
  it("queues a key once however often it is added", async () => {
    const q = new WorkQueue();
    q.add("a");
    q.add("b");
    q.add("a");
    expect(q.length).toBe(2);
    expect(await q.get()).toBe("a");
    expect(await q.get()).toBe("b");
    expect(q.length).toBe(0);
  });

  it("never hands out a key that is being processed, and processes it again after done", async () => {
    const q = new WorkQueue();
    q.add("a");
    expect(await q.get()).toBe("a");
    q.add("a");
    q.add("a");
    expect(q.length).toBe(0);
    const second = q.get();
    q.add("b");
    expect(await second).toBe("b");
    q.done("a");
    expect(await q.get()).toBe("a");
    q.done("a");
    expect(await poll(q)).toBe("nothing");
  });

  it("lets a waiting worker take a key as soon as it is added", async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.add("x");
    expect(await waiting).toBe("x");
  });

  it("never processes one key on two workers at once under concurrent load", async () => {
    const q = new WorkQueue();
    const active = new Set<string>();
    let overlaps = 0;
    let processed = 0;
    const keys = ["a", "b", "c"];
    const workers = Array.from({ length: 4 }, async () => {
      for (;;) {
        const key = await q.get();
        if (key === undefined) return;
        if (active.has(key)) overlaps++;
        active.add(key);
        await new Promise((r) => setTimeout(r, Math.random() * 3));
        active.delete(key);
        processed++;
        q.done(key);
      }
    });
    for (let i = 0; i < 200; i++) {
      q.add(keys[i % keys.length] ?? "a");
      if (i % 7 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    while (q.length > 0 || q.inFlight > 0) await new Promise((r) => setTimeout(r, 5));
    await q.shutDownWithDrain();
    await Promise.all(workers);
    expect(overlaps).toBe(0);
    expect(processed).toBeGreaterThanOrEqual(keys.length);
    expect(processed).toBeLessThan(200);
  });
});

describe("WorkQueue delays and backoff", () => {
  let clock = 0;
  beforeEach(() => {
    vi.useFakeTimers();
    clock = 0;
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const advance = async (ms: number) => {
    clock += ms;
    await vi.advanceTimersByTimeAsync(ms);
  };

  it("adds a key after the delay, keeping the earliest of several delays", async () => {
    const q = new WorkQueue({ now: () => clock });
    q.addAfter("a", 1000);
    q.addAfter("a", 300);
    q.addAfter("a", 5000);
    await advance(299);
    expect(q.length).toBe(0);
    await advance(1);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe("a");
    q.done("a");
    await advance(10_000);
    expect(q.length).toBe(0);
  });

  it("adds at once for a delay of zero or less", () => {
    const q = new WorkQueue();
    q.addAfter("a", 0);
    q.addAfter("b", -5);
    expect(q.length).toBe(2);
  });

  it("backs off exponentially per key up to the cap, and forget starts over", async () => {
    const q = new WorkQueue({ backoff: { baseMs: 100, capMs: 400, jitter: 0 }, now: () => clock });
    const readyAfter = async (key: string): Promise<number> => {
      q.addRateLimited(key);
      let waited = 0;
      while (q.length === 0) {
        await advance(10);
        waited += 10;
      }
      expect(await q.get()).toBe(key);
      q.done(key);
      return waited;
    };
    expect([
      await readyAfter("a"),
      await readyAfter("a"),
      await readyAfter("a"),
      await readyAfter("a"),
    ]).toEqual([100, 200, 400, 400]);
    expect(q.retries("a")).toBe(4);
    expect(await readyAfter("b")).toBe(100);
    q.forget("a");
    expect(q.retries("a")).toBe(0);
    expect(await readyAfter("a")).toBe(100);
  });

  it("jitters the backoff within its bounds", async () => {
    const q = new WorkQueue({
      backoff: { baseMs: 1000, capMs: 8000, jitter: 0.5 },
      random: () => 0.5,
      now: () => clock,
    });
    q.addRateLimited("a");
    await advance(749);
    expect(q.length).toBe(0);
    await advance(1);
    expect(q.length).toBe(1);
  });
});

describe("WorkQueue shutdown", () => {
  it("wakes waiting workers, ignores new keys and drops queued ones", async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).toBeUndefined();
    q.add("late");
    q.addAfter("later", 10);
    q.addRateLimited("retry");
    expect(q.length).toBe(0);
    expect(await q.get()).toBeUndefined();
    expect(q.shuttingDown).toBe(true);
  });

  it("drops queued keys so no new work starts", async () => {
    const q = new WorkQueue();
    q.add("a");
    q.add("b");
    q.shutDown();
    expect(q.length).toBe(0);
    expect(await q.get()).toBeUndefined();
  });

  it("drains: waits for keys in process to be done", async () => {
    const q = new WorkQueue();
    q.add("a");
    const key = await q.get();
    expect(key).toBe("a");
    let drained = false;
    const draining = q.shutDownWithDrain().then((ok) => {
      drained = ok;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(drained).toBe(false);
    q.done("a");
    await draining;
    expect(drained).toBe(true);
  });

  it("gives up draining after the timeout", async () => {
    const q = new WorkQueue();
    q.add("stuck");
    await q.get();
    expect(await q.shutDownWithDrain(20)).toBe(false);
    expect(q.inFlight).toBe(1);
  });
});

describe("WorkQueue metrics", () => {
  it("reports adds, depth, retries and durations", async () => {
    const calls = { added: 0, depth: [] as number[], queued: 0, worked: 0, retried: 0 };
    const metrics: QueueMetrics = {
      added: () => calls.added++,
      depth: (n) => calls.depth.push(n),
      queued: () => calls.queued++,
      worked: () => calls.worked++,
      retried: () => calls.retried++,
    };
    let now = 0;
    const q = new WorkQueue({ metrics, now: () => now });
    q.add("a");
    q.add("a");
    q.add("b");
    expect(calls.added).toBe(2);
    expect(calls.depth.at(-1)).toBe(2);
    await q.get();
    now = 1500;
    expect(q.longestRunningProcessorSeconds()).toBe(1.5);
    expect(q.unfinishedWorkSeconds()).toBe(1.5);
    q.done("a");
    expect(q.longestRunningProcessorSeconds()).toBe(0);
    q.addRateLimited("a");
    expect(calls).toMatchObject({ queued: 1, worked: 1, retried: 1 });
    expect(calls.depth.at(-1)).toBe(1);
  });
});
