import { describe, expect, it } from "vitest";
import { TokenCache } from "./token-cache.ts";

describe("verified token cache", () => {
  const at = (seconds: number) => seconds * 1000;

  it("answers a remembered token only inside its validity window and its maximum age", () => {
    let now = at(1000);
    const cache = new TokenCache<string>({ maxAgeMs: 60_000, now: () => now });
    cache.set("early", "claims", { exp: 2000, nbf: 1010 });
    cache.set("short", "claims", { exp: 1030 });
    cache.set("long", "claims", { exp: 5000 });
    expect(cache.get("early")).toBeUndefined();
    expect(cache.get("long")).toBe("claims");
    now = at(1030);
    expect(cache.get("short")).toBeUndefined();
    expect(cache.get("long")).toBe("claims");
    now = at(1060);
    expect(cache.get("long")).toBeUndefined();
    expect(cache.get("never-set")).toBeUndefined();
  });

  it("forgets the oldest tokens beyond its size", () => {
    const cache = new TokenCache<number>({ maxEntries: 2, now: () => 0 });
    cache.set("a", 1, { exp: 100 });
    cache.set("b", 2, { exp: 100 });
    cache.set("c", 3, { exp: 100 });
    expect([cache.get("a"), cache.get("b"), cache.get("c")]).toEqual([undefined, 2, 3]);
  });
});
