import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Api, ApiClient, ApiPortal, Plan, Subscription } from "../../api/v1alpha1/index.ts";
import { validateApi } from "../../webhooks/api.webhook.ts";
import { validateSubscription } from "../../webhooks/subscription.webhook.ts";
import {
  clashingApis,
  clashingRouteChanges,
  type InvalidCase,
  invalidSubscriptions,
  openings,
  routeKeys,
  unresolvedSubscriptions,
  type ValidCase,
  validApis,
  validSubscriptions,
  withdrawals,
} from "./cross-object-cases.ts";
import {
  APIS,
  apiManifest,
  clientManifest,
  DOOMED,
  DOOMED_API,
  doomedManifests,
  PLANS,
  planManifest,
  portalManifest,
  worldManifests,
} from "./cross-object-world.ts";

const NS = "shop";
const inNamespace = <T>(manifest: object): T =>
  ({ ...manifest, metadata: { ...(manifest as { metadata: object }).metadata, namespace: NS } }) as T;
const doomed = <T>(manifest: object): T => {
  const obj = inNamespace<T & { metadata: object }>(manifest);
  return { ...obj, metadata: { ...obj.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } } as T;
};

/** The world as the webhooks' pure rules see it, built from the same tables as the cluster's. */
const world = worldManifests().map((m) => inNamespace<{ kind: string; metadata: { name: string } }>(m));
const ofKind = <T>(kind: string) => world.filter((m) => m.kind === kind) as unknown as T[];
const apis = [...ofKind<Api>("Api"), doomed<Api>(apiManifest(DOOMED_API))];
const plans = [...ofKind<Plan>("Plan"), doomed<Plan>(planManifest(DOOMED.plan))];
const clients = [...ofKind<ApiClient>("ApiClient"), doomed<ApiClient>(clientManifest(DOOMED.client))];
const portals = ofKind<ApiPortal>("ApiPortal");
const subscriptions = ofKind<Subscription>("Subscription");
const byName = <T extends { metadata: { name?: string } }>(items: T[], name: string) =>
  items.find((i) => i.metadata.name === name);
const now = new Date();
let n = 0;
const fresh = (prefix: string) => `${prefix}${n++}`;

/** Merges a merge patch into an object (null deletes), as the apiserver does. */
function merged<T>(target: T, patch: unknown): T {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch as T;
  const out: Record<string, unknown> = { ...(target as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = merged(out[k], v);
  }
  return out as T;
}

/** What the webhooks' own rules decide about a case, without a cluster. */
function decide(c: InvalidCase | ValidCase) {
  if (c.plural === "subscriptions") {
    const old = c.operation === "update" ? byName(subscriptions, c.name) : undefined;
    const sub = old ? merged(old, c.body) : inNamespace<Subscription>(c.body);
    return validateSubscription(
      c.operation === "create" ? "CREATE" : "UPDATE",
      sub,
      old,
      {
        client: byName(clients, sub.spec.clientRef.name),
        api: byName(apis, sub.spec.apiRef.name),
        plan: byName(plans, sub.spec.planRef.name),
        portals,
        subscriptions,
      },
      now,
    );
  }
  const old = c.operation === "update" ? byName(apis, c.name) : undefined;
  const api = old ? merged(old, c.body) : inNamespace<Api>(c.body);
  return validateApi(c.operation === "create" ? "CREATE" : "UPDATE", api, old, {
    apis,
    plans,
    portals,
    subscriptions,
  });
}

const agreesWithTheRules = (c: InvalidCase) => {
  const denial = decide(c).denials.join("; ");
  for (const r of c.refusals) expect(denial, r.rule).toContain(r.says);
  for (const s of c.notSays) expect(denial).not.toContain(s);
};

describe("the cross-object world", () => {
  it("has pairwise distinct route keys, so a generated clash clashes with exactly one route", () => {
    const keys = routeKeys([...APIS, DOOMED_API]).map((k) => `${k.host ?? "*"} ${k.path ?? "*"}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("holds one object of each referable kind in deletion", () => {
    expect(doomedManifests().map((d) => d.manifest.metadata.finalizers)).toEqual([
      ["test.wicked.dev/hold"],
      ["test.wicked.dev/hold"],
      ["test.wicked.dev/hold"],
    ]);
    expect(PLANS).not.toContain(DOOMED.plan);
  });

  it("is admitted by the rules, object by object in order", () => {
    expect(portalManifest("p").spec.gateway.mode).toBe("None");
    for (const api of ofKind<Api>("Api"))
      expect(validateApi("CREATE", api, undefined, { apis, plans, portals, subscriptions }).denials).toEqual(
        [],
      );
  });
});

describe("the generated cases agree with the webhooks' pure rules", () => {
  it("invalid Subscriptions", () => {
    fc.assert(fc.property(invalidSubscriptions(NS, fresh), agreesWithTheRules), { numRuns: 300 });
  });

  it("clashing routes, withdrawals and openings", () => {
    fc.assert(fc.property(clashingApis(fresh), agreesWithTheRules), { numRuns: 300 });
    fc.assert(fc.property(clashingRouteChanges("spare"), agreesWithTheRules), { numRuns: 100 });
    fc.assert(fc.property(withdrawals(), agreesWithTheRules), { numRuns: 100 });
    fc.assert(fc.property(openings(), agreesWithTheRules), { numRuns: 20 });
  });

  it("Subscriptions whose references do not resolve yet are admitted with exactly the promised warnings", () => {
    fc.assert(
      fc.property(unresolvedSubscriptions(NS, fresh), (c) => {
        const verdict = decide(c);
        expect(verdict.denials).toEqual([]);
        expect(verdict.warnings).toHaveLength(c.warns.length);
        for (const w of c.warns) expect(verdict.warnings.join("\n")).toContain(w);
      }),
      { numRuns: 300 },
    );
  });

  it("valid Subscriptions and Apis are not denied and warn as promised", () => {
    fc.assert(
      fc.property(validApis(NS, fresh), (c) => {
        const verdict = decide(c);
        expect(verdict.denials).toEqual([]);
        expect(verdict.warnings).toHaveLength(c.warns.length);
        for (const w of c.warns) expect(verdict.warnings.join("\n")).toContain(w);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(validSubscriptions(fresh), (c) => {
        // The suite creates the client first; here it is one of the world's clients without subscriptions.
        const verdict = decide({
          ...c,
          body: { ...c.body, spec: { ...c.body.spec, clientRef: { name: "app3" } } },
        });
        expect(verdict.denials).toEqual([]);
        expect(verdict.warnings).toHaveLength(c.warns.length);
      }),
      { numRuns: 100 },
    );
  });
});
