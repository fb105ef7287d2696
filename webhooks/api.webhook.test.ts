import { describe, expect, it } from "vitest";
import { type ApiFacts, routesClash, validateApi } from "./api.webhook.ts";
import { api, plan, portal, subscription } from "./testing.ts";

function facts(overrides: Partial<ApiFacts> = {}): ApiFacts {
  return {
    apis: [],
    plans: [plan("basic"), plan("gold")],
    portals: [portal("dev")],
    subscriptions: [],
    ...overrides,
  };
}

describe("routesClash", () => {
  it("finds the same path on any host with all methods", () => {
    expect(routesClash({ paths: ["/orders"] }, { paths: ["/orders", "/x"] })).toBe(
      "any host, path /orders, all methods",
    );
  });

  it("does not confuse nested prefixes, different hosts or disjoint methods", () => {
    expect(routesClash({ paths: ["/orders"] }, { paths: ["/orders/v2"] })).toBeUndefined();
    expect(
      routesClash({ paths: ["/o"], hosts: ["a.example.com"] }, { paths: ["/o"], hosts: ["b.example.com"] }),
    ).toBeUndefined();
    expect(routesClash({ paths: ["/o"], hosts: ["a.example.com"] }, { paths: ["/o"] })).toBeUndefined();
    expect(
      routesClash({ paths: ["/o"], methods: ["GET"] }, { paths: ["/o"], methods: ["POST"] }),
    ).toBeUndefined();
  });

  it("reports the methods two routes share and treats no methods as all", () => {
    expect(
      routesClash({ paths: ["/o"], methods: ["GET", "POST"] }, { paths: ["/o"], methods: ["POST", "PUT"] }),
    ).toBe("any host, path /o, POST");
    expect(routesClash({ paths: ["/o"] }, { paths: ["/o"], methods: ["PUT", "GET"] })).toBe(
      "any host, path /o, GET, PUT",
    );
  });

  it("finds a host-only route on the same host", () => {
    expect(routesClash({ hosts: ["api.example.com"] }, { hosts: ["api.example.com"] })).toBe(
      "host api.example.com, any path, all methods",
    );
  });
});

describe("validateApi", () => {
  it("allows an Api with its own routes and existing plans without comment", () => {
    expect(validateApi("CREATE", api("orders"), undefined, facts({ apis: [api("billing")] }))).toEqual({
      denials: [],
      warnings: [],
    });
  });

  it("refuses a route another Api of the namespace already has, naming the Api and the route", () => {
    const verdict = validateApi(
      "CREATE",
      api("orders"),
      undefined,
      facts({ apis: [api("billing", { routes: [{ paths: ["/orders"] }] })] }),
    );
    expect(verdict.denials).toEqual([
      "spec.routes[0] clashes with a route of Api billing (any host, path /orders, all methods): the gateway could not tell them apart; use another path, host or method",
    ]);
  });

  it("ignores its own stored version and Apis being deleted", () => {
    const mine = api("orders");
    const deleting = api(
      "old",
      { routes: [{ paths: ["/orders"] }] },
      { deletionTimestamp: "2026-01-01T00:00:00Z" },
    );
    expect(
      validateApi("UPDATE", api("orders", { displayName: "New" }), mine, facts({ apis: [mine, deleting] }))
        .denials,
    ).toEqual([]);
  });

  it("checks routes on update only when they change", () => {
    const clashing = api("billing", { routes: [{ paths: ["/orders"] }] });
    const before = api("orders");
    const renamed = api("orders", { displayName: "Orders v1" });
    expect(validateApi("UPDATE", renamed, before, facts({ apis: [clashing] })).denials).toEqual([]);
    const moved = api("orders", { routes: [{ paths: ["/orders"], methods: ["GET"] }] });
    expect(validateApi("UPDATE", moved, before, facts({ apis: [clashing] })).denials).toHaveLength(1);
  });

  it("warns, rather than refuses, about plans that do not exist yet", () => {
    const verdict = validateApi("CREATE", api("orders", { plans: ["basic", "partner"] }), undefined, facts());
    expect(verdict.denials).toEqual([]);
    expect(verdict.warnings).toEqual([
      "plan(s) partner do not exist in namespace shop yet; the Api is not published (ResolvedRefs=False) until they do",
    ]);
  });

  it("refuses withdrawing a plan that subscriptions still use, but not one nobody uses", () => {
    const before = api("orders");
    const after = api("orders", { plans: ["basic"] });
    const users = [subscription("a", "app", "orders", "gold"), subscription("b", "app2", "orders", "gold")];
    expect(validateApi("UPDATE", after, before, facts({ subscriptions: users })).denials).toEqual([
      "plan gold is used by 2 subscription(s) of this Api (a, b); move them to another plan or delete them before removing gold from spec.plans",
    ]);
    const rejected = subscription("c", "app", "orders", "gold", {
      approval: { decision: "Rejected", decidedBy: "x", reason: "y" },
    });
    expect(validateApi("UPDATE", after, before, facts({ subscriptions: [rejected] })).denials).toEqual([]);
  });

  it("refuses opening an Api that has subscribers and warns about an open Api", () => {
    const before = api("orders", { plans: ["basic"] });
    const open = api("orders", { auth: { type: "none" }, plans: [] });
    const verdict = validateApi(
      "UPDATE",
      open,
      before,
      facts({ subscriptions: [subscription("a", "app", "orders", "basic")] }),
    );
    expect(verdict.denials).toContain(
      "auth type none would make the Api open while 1 subscription(s) use it (a); delete them first, or keep key-auth or oauth2",
    );
    const fresh = validateApi(
      "CREATE",
      api("health", { auth: { type: "none" }, plans: [] }),
      undefined,
      facts(),
    );
    expect(fresh).toEqual({
      denials: [],
      warnings: ["Api health has auth type none: anyone who reaches the gateway can call it"],
    });
  });

  it("warns when the namespace has no ApiPortal", () => {
    expect(validateApi("CREATE", api("orders"), undefined, facts({ portals: [] })).warnings).toEqual([
      "There is no ApiPortal in namespace shop: the Api is not published until one exists",
    ]);
  });
});
