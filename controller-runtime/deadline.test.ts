import { describe, expect, it } from "vitest";
import { untilAborted, withDeadline } from "./deadline.ts";

/** Work that never ends on its own, whatever its signal says, until the test releases it. */
function stalled(): { work: (signal: AbortSignal) => Promise<string>; seen(): AbortSignal; release(): void } {
  let release = () => {};
  let seen: AbortSignal | undefined;
  const answer = new Promise<string>((resolve) => {
    release = () => resolve("late");
  });
  return {
    work: (signal) => {
      seen = signal;
      return answer;
    },
    seen: () => {
      if (!seen) throw new Error("The work has not started");
      return seen;
    },
    release: () => release(),
  };
}

describe("withDeadline", () => {
  it("resolves with the value of work that ends in time, and leaves its signal alone", async () => {
    let signal: AbortSignal | undefined;
    const outcome = await withDeadline(
      async (s) => {
        signal = s;
        return 42;
      },
      { timeoutMs: 1_000 },
    );
    expect(outcome).toEqual({ status: "fulfilled", value: 42 });
    expect(signal?.aborted).toBe(false);
  });

  it("resolves with the reason of work that fails in time, also when it throws before returning a promise", async () => {
    const boom = new Error("boom");
    expect(await withDeadline(() => Promise.reject(boom), { timeoutMs: 1_000 })).toEqual({
      status: "rejected",
      reason: boom,
    });
    expect(
      await withDeadline(
        () => {
          throw boom;
        },
        { timeoutMs: 1_000 },
      ),
    ).toEqual({ status: "rejected", reason: boom });
  });

  it("gives up at the deadline on work that ignores its signal, aborts the signal, and reports when the work ends", async () => {
    const work = stalled();
    const reason = new Error("too slow");
    const started = performance.now();
    const outcome = await withDeadline(work.work, { timeoutMs: 50, reason: () => reason });
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    expect(outcome.status).toBe("timedOut");
    expect(work.seen().aborted).toBe(true);
    expect(work.seen().reason).toBe(reason);
    if (outcome.status !== "timedOut") return;
    let ended = false;
    void outcome.settled.then(() => {
      ended = true;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(ended).toBe(false);
    work.release();
    await outcome.settled;
    expect(ended).toBe(true);
  });

  it("reports the end of abandoned work that fails, without an unhandled rejection", async () => {
    const outcome = await withDeadline(
      () => new Promise((_resolve, reject) => setTimeout(() => reject(new Error("late failure")), 40)),
      { timeoutMs: 10 },
    );
    expect(outcome.status).toBe("timedOut");
    if (outcome.status === "timedOut") await expect(outcome.settled).resolves.toBeUndefined();
  });

  it("passes a parent signal's abort on to the work, but keeps waiting for the work until the deadline", async () => {
    const parent = new AbortController();
    const work = stalled();
    const waiting = withDeadline(work.work, { timeoutMs: 5_000, signal: parent.signal });
    parent.abort(new Error("lost the Lease"));
    expect(work.seen().aborted).toBe(true);
    expect(work.seen().reason).toMatchObject({ message: "lost the Lease" });
    work.release();
    expect(await waiting).toEqual({ status: "fulfilled", value: "late" });
  });

  it("starts the work with an aborted signal when the parent aborted already", async () => {
    const parent = new AbortController();
    parent.abort(new Error("stopping"));
    let aborted: boolean | undefined;
    await withDeadline(
      async (s) => {
        aborted = s.aborted;
      },
      { timeoutMs: 1_000, signal: parent.signal },
    );
    expect(aborted).toBe(true);
  });

  it("lets go of the parent signal once the wait is over", async () => {
    const parent = new AbortController();
    let signal: AbortSignal | undefined;
    await withDeadline(
      async (s) => {
        signal = s;
      },
      { timeoutMs: 1_000, signal: parent.signal },
    );
    parent.abort();
    expect(signal?.aborted).toBe(false);
  });

  it("sets no deadline for a limit a timer cannot hold", async () => {
    const work = stalled();
    const waiting = withDeadline(work.work, { timeoutMs: 2 ** 40 });
    await new Promise((r) => setTimeout(r, 20));
    work.release();
    expect(await waiting).toEqual({ status: "fulfilled", value: "late" });
  });
});

describe("untilAborted", () => {
  it("resolves and rejects like the promise while the signal is not aborted", async () => {
    const signal = new AbortController().signal;
    await expect(untilAborted(Promise.resolve("x"), signal)).resolves.toBe("x");
    await expect(untilAborted(Promise.reject(new Error("no")), signal)).rejects.toThrow("no");
  });

  it("rejects with the signal's reason as soon as it aborts, however long the promise takes", async () => {
    const controller = new AbortController();
    const waiting = untilAborted(new Promise(() => {}), controller.signal);
    const reason = new Error("abandoned");
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });

  it("rejects at once when the signal aborted already", async () => {
    const reason = new Error("abandoned");
    await expect(untilAborted(Promise.resolve("x"), AbortSignal.abort(reason))).rejects.toBe(reason);
  });
});
