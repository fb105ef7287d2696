import { describe, expect, it } from "vitest";
import { credentialFingerprint, KONG_NAME_MAX_LENGTH, kongId, kongName, uuidV5 } from "./ids.ts";
import { ownerFromTags, ownerTag, sanitizeTag } from "./tags.ts";

describe("uuidV5", () => {
  it("matches RFC 9562 version-5 UUIDs (values from Python's uuid.uuid5)", () => {
    expect(uuidV5("www.example.com", "6ba7b810-9dad-11d1-80b4-00c04fd430c8")).toBe(
      "2ed6657d-e927-568b-95e1-2665a8aea6a2",
    );
    expect(uuidV5("https://wicked.dev/ünï", "6ba7b811-9dad-11d1-80b4-00c04fd430c8")).toBe(
      "066dfb0e-e928-5d27-bc0f-a8e75f051b77",
    );
  });

  it("gives the same id for the same natural key and portal, and different ids otherwise", () => {
    const id = kongId("shop", "portal", "service:shop/orders");
    expect(kongId("shop", "portal", "service:shop/orders")).toBe(id);
    expect(kongId("shop", "other", "service:shop/orders")).not.toBe(id);
    expect(kongId("shop", "portal", "service:shop/order")).not.toBe(id);
  });
});

describe("kongName", () => {
  it("joins parts with dots and replaces characters Kong refuses", () => {
    expect(kongName("wicked", "shop", "orders.v1")).toBe("wicked.shop.orders.v1");
    expect(kongName("a b", "c/d")).toBe("a-b.c-d");
  });

  it("cuts long names to Kong's limit and keeps them unique with a hash", () => {
    const long1 = kongName("wicked", "n".repeat(63), "a".repeat(253));
    const long2 = kongName("wicked", "n".repeat(63), `${"a".repeat(252)}b`);
    expect(long1.length).toBe(KONG_NAME_MAX_LENGTH);
    expect(long1).toMatch(/^[A-Za-z0-9._~-]+$/);
    expect(long1).not.toBe(long2);
  });
});

describe("credentialFingerprint", () => {
  it("is stable, differs per key and does not contain the key", () => {
    const key = "k3y-value-that-must-not-leak";
    expect(credentialFingerprint(key)).toBe(credentialFingerprint(key));
    expect(credentialFingerprint(key)).not.toBe(credentialFingerprint(`${key}x`));
    expect(credentialFingerprint(key)).not.toContain("k3y");
  });
});

describe("owner tags", () => {
  it("round-trip, also for names with dots", () => {
    const owner = { kind: "Subscription", namespace: "shop", name: "alice.orders" } as const;
    expect(ownerTag(owner)).toBe("wicked-owner:Subscription.shop.alice.orders");
    expect(ownerFromTags(["managed-by-wicked", ownerTag(owner)])).toEqual(owner);
    expect(ownerFromTags(["managed-by-wicked"])).toBeUndefined();
    expect(ownerFromTags(["wicked-owner:Nonsense.shop.x"])).toBeUndefined();
  });

  it("keep only characters Kong accepts in tags", () => {
    expect(sanitizeTag("a,b/c d\u00e9")).toBe("a_b_c_d_");
  });
});
