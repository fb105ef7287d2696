import { describe, expect, it } from "vitest";
import { KongAdminError } from "./admin-client.ts";
import { isTransient, RetriesExhaustedError, type RetryInfo, withRetry } from "./retry.ts";

const fast = { baseMs: 1, capMs: 4, jitter: 0.5 };

function failing(statuses: number[]): { call: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    call: async () => {
      const status = statuses[calls++];
      if (status === undefined) return "ok";
      throw new KongAdminError(`status ${status}`, status);
    },
    calls: () => calls,
  };
}

describe("isTransient", () => {
  it("retries no answer, 5xx and 429, but not Kong's verdicts", () => {
    for (const status of [0, 500, 502, 503, 429])
      expect(isTransient(new KongAdminError("x", status))).toBe(true);
    for (const status of [400, 401, 404, 405, 409])
      expect(isTransient(new KongAdminError("x", status))).toBe(false);
    expect(isTransient(new Error("x"))).toBe(false);
  });
});

describe("withRetry", () => {
  it("retries transient failures until the request succeeds", async () => {
    const request = failing([0, 503]);
    await expect(withRetry(request.call, { backoff: fast })).resolves.toBe("ok");
    expect(request.calls()).toBe(3);
  });

  it("gives up after maxAttempts with the last error and the attempt count", async () => {
    const request = failing([500, 502, 503, 500]);
    const error = await withRetry(request.call, { maxAttempts: 3, backoff: fast }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetriesExhaustedError);
    expect(error).toMatchObject({ status: 503, attempts: 3, message: "status 503 (after 3 attempts)" });
    expect(request.calls()).toBe(3);
  });

  it("does not retry a 4xx", async () => {
    const request = failing([409]);
    await expect(withRetry(request.call, { backoff: fast })).rejects.toMatchObject({ status: 409 });
    expect(request.calls()).toBe(1);
  });

  it("backs off exponentially with jitter, capped", async () => {
    const retries: RetryInfo[] = [];
    const request = failing([500, 500, 500, 500, 500, 500]);
    await withRetry(request.call, {
      maxAttempts: 7,
      backoff: { baseMs: 2, capMs: 10, jitter: 0.5 },
      random: () => 0.999,
      onRetry: (info) => retries.push(info),
    });
    const delays = retries.map((r) => r.delayMs);
    expect(delays).toHaveLength(6);
    expect(delays.map((d) => Math.round(d * 10) / 10)).toEqual([1, 2, 4, 5, 5, 5]);
    const noJitter: number[] = [];
    await withRetry(failing([500, 500, 500]).call, {
      backoff: { baseMs: 2, capMs: 10, jitter: 0.5 },
      random: () => 0,
      onRetry: (info) => noJitter.push(info.delayMs),
    });
    expect(noJitter).toEqual([2, 4, 8]);
  });

  it("stops waiting and retrying when the signal aborts", async () => {
    const controller = new AbortController();
    const request = failing([500, 500, 500]);
    const reason = new Error("stop");
    const pending = withRetry(
      request.call,
      { backoff: { baseMs: 60_000, capMs: 60_000, jitter: 0 }, onRetry: () => controller.abort(reason) },
      controller.signal,
    );
    await expect(pending).rejects.toBe(reason);
    expect(request.calls()).toBe(1);
  });
});
