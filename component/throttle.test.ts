import { describe, expect, it } from "vitest";
import { addressKey, admit, retryAfterSeconds, WindowCounter, waitText } from "./throttle.ts";

describe("security #8: WindowCounter", () => {
  it("security #8: counts each key in its own window and refuses past the limit until the window ends", () => {
    const counter = new WindowCounter({ max: 2, timeWindowMs: 1_000 });
    expect(counter.waitMs("a", 0)).toBe(0);
    counter.count("a", 0);
    counter.count("a", 400);
    expect(counter.waitMs("a", 500)).toBe(500);
    expect(counter.waitMs("b", 500)).toBe(0);
    expect(counter.waitMs("a", 1_000)).toBe(0);
    counter.count("a", 1_000);
    expect(counter.waitMs("a", 1_500)).toBe(0);
  });

  it("security #8: keeps memory bounded: forgets expired keys and refuses new keys while it is full", () => {
    const counter = new WindowCounter({ max: 5, timeWindowMs: 1_000 }, 2);
    counter.count("a", 0);
    counter.count("b", 100);
    expect(counter.size).toBe(2);
    // Full: a third key waits until the oldest window ends, the keys it holds still count.
    expect(counter.waitMs("c", 200)).toBe(800);
    expect(counter.waitMs("a", 200)).toBe(0);
    // Once a's window has ended it is forgotten and c gets its place.
    expect(counter.waitMs("c", 1_000)).toBe(0);
    counter.count("c", 1_000);
    expect(counter.size).toBe(2);
    expect(counter.waitMs("b", 1_200)).toBe(0);
    expect(counter.size).toBe(1);
  });

  it("security #8: refuses a limit that would admit nothing or never reset", () => {
    expect(() => new WindowCounter({ max: 0, timeWindowMs: 1_000 })).toThrow(RangeError);
    expect(() => new WindowCounter({ max: 1, timeWindowMs: 0 })).toThrow(RangeError);
    expect(() => new WindowCounter({ max: 1.5, timeWindowMs: 1_000 })).toThrow(RangeError);
  });
});

describe("security #8: admit", () => {
  it("security #8: admits a request only when every bucket has room, and counts a refused one in none", () => {
    const perAddress = new WindowCounter({ max: 2, timeWindowMs: 60_000 });
    const perAccount = new WindowCounter({ max: 3, timeWindowMs: 600_000 });
    const global = new WindowCounter({ max: 100, timeWindowMs: 60_000 });
    const attempt = (address: string, email: string, now: number) =>
      admit(
        [
          [perAddress, address],
          [perAccount, email],
          [global, "*"],
        ],
        now,
      );
    // Spraying: one address, a new account each time.
    expect(attempt("203.0.113.1", "a@example.com", 0)).toBe(0);
    expect(attempt("203.0.113.1", "b@example.com", 1_000)).toBe(0);
    expect(attempt("203.0.113.1", "c@example.com", 2_000)).toBe(58_000);
    expect(perAccount.waitMs("c@example.com", 2_000)).toBe(0);
    // Guessing one account from many addresses.
    expect(attempt("198.51.100.1", "a@example.com", 3_000)).toBe(0);
    expect(attempt("198.51.100.2", "a@example.com", 4_000)).toBe(0);
    expect(attempt("198.51.100.3", "a@example.com", 5_000)).toBe(595_000);
    // The refused requests did not count: the global bucket saw the four admitted ones only.
    for (let i = 0; i < 96; i += 1) expect(attempt(`192.0.2.${i}`, `u${i}@example.com`, 6_000)).toBe(0);
    expect(attempt("192.0.2.200", "new@example.com", 6_000)).toBe(54_000);
  });

  it("security #8: says how long to wait in whole seconds and words", () => {
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(59_001)).toBe(60);
    expect(waitText(1)).toBe("1 second");
    expect(waitText(45)).toBe("45 seconds");
    expect(waitText(60)).toBe("1 minute");
    expect(waitText(61)).toBe("2 minutes");
    expect(waitText(15 * 60)).toBe("15 minutes");
  });
});

describe("security #8: addressKey", () => {
  it("security #8: groups IPv6 addresses by their /64 and maps IPv4-mapped addresses to IPv4", () => {
    expect(addressKey("203.0.113.7")).toBe("203.0.113.7");
    expect(addressKey("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(addressKey("2001:db8:1:2:aaaa::1")).toBe(addressKey("2001:db8:1:2:bbbb::2"));
    expect(addressKey("2001:db8:1:2::1")).not.toBe(addressKey("2001:db8:1:3::1"));
  });
});
