import { describe, expect, it } from "vitest";
import { backoffDelay, DEFAULT_RECONCILE_BACKOFF, ItemBackoff } from "./backoff.ts";

const noJitter = { baseMs: 5, capMs: 1_000_000, jitter: 0 };

describe("backoffDelay", () => {
  it("doubles from the base delay", () => {
    expect([0, 1, 2, 3, 10].map((n) => backoffDelay(n, noJitter))).toEqual([5, 10, 20, 40, 5120]);
  });

  it("never exceeds the cap, even after very many failures", () => {
    expect(backoffDelay(18, noJitter)).toBe(1_000_000);
    expect(backoffDelay(5000, noJitter)).toBe(1_000_000);
  });

  it("keeps jittered delays within [(1 - jitter) · d, d]", () => {
    const opts = { baseMs: 100, capMs: 10_000, jitter: 0.25 };
    for (const attempt of [0, 3, 20]) {
      const d = Math.min(10_000, 100 * 2 ** attempt);
      expect(backoffDelay(attempt, opts, () => 0)).toBe(d);
      expect(backoffDelay(attempt, opts, () => 0.999999)).toBeGreaterThanOrEqual(0.75 * d);
      for (let i = 0; i < 200; i++) {
        const delay = backoffDelay(attempt, opts);
        expect(delay).toBeGreaterThanOrEqual(0.75 * d);
        expect(delay).toBeLessThanOrEqual(d);
      }
    }
  });

  it("uses controller-runtime's 5 ms → 1000 s by default", () => {
    expect(DEFAULT_RECONCILE_BACKOFF.baseMs).toBe(5);
    expect(DEFAULT_RECONCILE_BACKOFF.capMs).toBe(1_000_000);
  });
});

describe("ItemBackoff", () => {
  it("grows per key and starts over after forget", () => {
    const b = new ItemBackoff(noJitter);
    expect([b.when("a"), b.when("a"), b.when("a")]).toEqual([5, 10, 20]);
    expect(b.when("b")).toBe(5);
    expect(b.retries("a")).toBe(3);
    b.forget("a");
    expect(b.retries("a")).toBe(0);
    expect(b.when("a")).toBe(5);
  });
});
