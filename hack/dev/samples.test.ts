import { describe, expect, it } from "vitest";
import { devSamples, readSamples } from "./samples.ts";

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

  it("puts make dev's Secrets in place of the samples' Secrets of the same name", () => {
    const dbUrl = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "portal-database" },
      stringData: { url: "x" },
    };
    const docs = devSamples(readSamples(), { name: "developer-portal", patch: { spec: {} } }, "http://u", [
      dbUrl,
    ]);
    expect(docs.filter((d) => d.metadata?.name === "portal-database")).toEqual([dbUrl]);
  });
});
