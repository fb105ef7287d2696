import { describe, expect, it } from "vitest";
import { validatePlan } from "./plan.webhook.ts";
import { api, plan } from "./testing.ts";

describe("validatePlan", () => {
  it("never refuses, and is silent about an offered plan with limits", () => {
    expect(validatePlan("CREATE", plan("basic"), undefined, { apis: [api("orders")] })).toEqual({
      denials: [],
      warnings: [],
    });
  });

  it("warns about a plan without rate limits and one no Api offers", () => {
    const verdict = validatePlan("CREATE", plan("free", { rateLimits: undefined }), undefined, {
      apis: [api("orders")],
    });
    expect(verdict).toEqual({
      denials: [],
      warnings: [
        "Plan free has no rate limits: every subscriber may send unlimited requests; set spec.rateLimits unless that is intended",
        "No Api offers plan free yet; add it to an Api's spec.plans so developers can choose it",
      ],
    });
  });

  it("says nothing on an update that leaves the spec alone", () => {
    const free = plan("free", { rateLimits: undefined });
    expect(validatePlan("UPDATE", free, free, { apis: [] }).warnings).toEqual([]);
  });
});
