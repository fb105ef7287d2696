import { describe, expect, it } from "vitest";
import { devSamples, mergePatch, readSamples } from "./samples.ts";

describe("mergePatch", () => {
  it("merges objects, removes what is null and replaces lists and values", () => {
    expect(
      mergePatch({ a: { b: 1, c: 2 }, l: [1, 2], k: "x" }, { a: { c: null, d: 3 }, l: [3], k: "y" }),
    ).toEqual({ a: { b: 1, d: 3 }, l: [3], k: "y" });
  });
});

describe("devSamples", () => {
  it("points every sample Api at the echo upstream (one of url and serviceRef) and patches the sample portal", () => {
    const docs = devSamples(
      readSamples(),
      { name: "developer-portal", patch: { spec: { login: { oidc: null }, chat: null } } },
      "http://127.0.0.1:9999",
    );
    const apis = docs.filter((d) => d.kind === "Api");
    expect(apis.length).toBeGreaterThan(0);
    for (const api of apis)
      expect((api.spec as { upstream: unknown }).upstream).toEqual({ url: "http://127.0.0.1:9999" });
    const portal = docs.find((d) => d.kind === "ApiPortal") as { spec: Record<string, unknown> };
    expect(portal.spec.chat).toBeUndefined();
    expect((portal.spec.login as Record<string, unknown>).oidc).toBeUndefined();
    expect((portal.spec.login as Record<string, unknown>).local).toBeDefined();
  });
});
