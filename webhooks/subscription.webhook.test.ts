import { describe, expect, it } from "vitest";
import type { Subscription } from "../api/v1alpha1/index.ts";
import {
  defaultSubscription,
  type SubscriptionFacts,
  subscriptionLabels,
  validateSubscription,
} from "./subscription.webhook.ts";
import { api, client, plan, portal, subscription } from "./testing.ts";

const NOW = new Date("2026-06-01T00:00:00Z");
const DELETING = { deletionTimestamp: "2026-05-31T00:00:00Z" };

function facts(overrides: Partial<SubscriptionFacts> = {}): SubscriptionFacts {
  return {
    client: client("app"),
    api: api("orders"),
    plan: plan("basic"),
    portals: [portal("dev")],
    subscriptions: [],
    ...overrides,
  };
}

const create = (sub: Subscription, f: SubscriptionFacts) =>
  validateSubscription("CREATE", sub, undefined, f, NOW);
const sub = subscription("app-orders", "app", "orders", "basic");

describe("validateSubscription on CREATE", () => {
  it("allows a subscription whose client, Api and offered plan exist, without warnings", () => {
    expect(create(sub, facts())).toEqual({ denials: [], warnings: [] });
  });

  it("admits a missing ApiClient, Api and Plan (GitOps may apply them later), warning about each and the field", () => {
    const verdict = create(sub, facts({ client: undefined, api: undefined, plan: undefined }));
    expect(verdict.denials).toEqual([]);
    expect(verdict.warnings).toEqual([
      "ApiClient app does not exist in namespace shop yet; the Subscription waits (ResolvedRefs=False) until it is created, or correct spec.clientRef.name",
      "Api orders does not exist in namespace shop yet; the Subscription waits (ResolvedRefs=False) until it is created, or correct spec.apiRef.name",
      "Plan basic does not exist in namespace shop yet; the Subscription waits (ResolvedRefs=False) until it is created, or correct spec.planRef.name",
    ]);
  });

  it("admits references to objects that are being deleted, with a warning", () => {
    const verdict = create(sub, facts({ api: api("orders", {}, DELETING) }));
    expect(verdict.denials).toEqual([]);
    expect(verdict.warnings).toEqual([
      "Api orders in namespace shop is being deleted; the Subscription waits (ResolvedRefs=False) until it is created again, or refer to another Api in spec.apiRef.name",
    ]);
  });

  it("admits a plan the Api does not offer yet, warning with those it does", () => {
    const verdict = create(subscription("s", "app", "orders", "partner"), facts({ plan: plan("partner") }));
    expect(verdict.denials).toEqual([]);
    expect(verdict.warnings).toEqual([
      "Api orders does not offer plan partner (it offers basic, gold); the Subscription waits (ResolvedRefs=False) until partner is in the Api's spec.plans, or choose one of those",
    ]);
  });

  it("admits subscribing to an open Api with a warning (the Api may get an auth type)", () => {
    const open = api("orders", { auth: { type: "none" }, plans: [] });
    expect(create(sub, facts({ api: open }))).toEqual({
      denials: [],
      warnings: [
        "Api orders is open (auth type none): anyone may call it without a subscription, so this Subscription waits (ResolvedRefs=False) until the Api gets an auth type",
      ],
    });
  });

  it("refuses a second subscription of the same client to the same Api, but not after a rejection", () => {
    const existing = subscription("app-orders-old", "app", "orders", "gold");
    expect(create(sub, facts({ subscriptions: [existing] })).denials).toEqual([
      "ApiClient app already subscribes to Api orders with Subscription app-orders-old (plan gold); change that Subscription's planRef instead of adding a second one",
    ]);
    const rejected = subscription("app-orders-old", "app", "orders", "gold", {
      approval: { decision: "Rejected", decidedBy: "x", reason: "no" },
    });
    expect(create(sub, facts({ subscriptions: [rejected] })).denials).toEqual([]);
    expect(
      create(sub, facts({ subscriptions: [subscription("x", "other", "orders", "gold")] })).denials,
    ).toEqual([]);
  });

  it("refuses an Api past its sunset and warns about a deprecated one", () => {
    const gone = api("orders", { deprecation: { sunset: "2026-05-01T00:00:00Z", message: "use orders-v2" } });
    expect(create(sub, facts({ api: gone })).denials).toEqual([
      "Api orders was switched off at 2026-05-01T00:00:00Z (use orders-v2); it takes no new subscriptions",
    ]);
    const deprecated = api("orders", {
      deprecation: { since: "2026-01-01T00:00:00Z", sunset: "2027-01-01T00:00:00Z" },
    });
    const verdict = create(sub, facts({ api: deprecated }));
    expect(verdict.denials).toEqual([]);
    expect(verdict.warnings).toEqual([
      "Api orders is deprecated since 2026-01-01T00:00:00Z and will be switched off at 2027-01-01T00:00:00Z",
    ]);
  });

  it("warns when the namespace has no ApiPortal", () => {
    expect(create(sub, facts({ portals: [] })).warnings).toEqual([
      "There is no ApiPortal in namespace shop: the Subscription stays Pending and no credentials are issued until one exists",
    ]);
  });
});

describe("validateSubscription on UPDATE", () => {
  it("does not look at references when the spec is unchanged (finalizers, labels)", () => {
    const withFinalizer = subscription("app-orders", "app", "orders", "basic", {}, { finalizers: ["x"] });
    const verdict = validateSubscription(
      "UPDATE",
      withFinalizer,
      sub,
      facts({ api: undefined, client: undefined }),
      NOW,
    );
    expect(verdict).toEqual({ denials: [], warnings: [] });
  });

  it("lets a subscription being deleted through whatever is missing", () => {
    const deleting = subscription("app-orders", "app", "orders", "gone", {}, DELETING);
    expect(validateSubscription("UPDATE", deleting, sub, facts({ plan: undefined }), NOW).denials).toEqual(
      [],
    );
  });

  it("checks a changed plan: warns when it does not exist or the Api does not offer it", () => {
    const moved = subscription("app-orders", "app", "orders", "partner");
    expect(validateSubscription("UPDATE", moved, sub, facts({ plan: undefined }), NOW)).toEqual({
      denials: [],
      warnings: [
        "Plan partner does not exist in namespace shop yet; the Subscription waits (ResolvedRefs=False) until it is created, or correct spec.planRef.name",
      ],
    });
    expect(validateSubscription("UPDATE", moved, sub, facts({ plan: plan("partner") }), NOW)).toEqual({
      denials: [],
      warnings: [
        "Api orders does not offer plan partner (it offers basic, gold); the Subscription waits (ResolvedRefs=False) until partner is in the Api's spec.plans, or choose one of those",
      ],
    });
    const gold = subscription("app-orders", "app", "orders", "gold");
    expect(validateSubscription("UPDATE", gold, sub, facts({ plan: plan("gold") }), NOW).denials).toEqual([]);
  });

  it("does not re-check references that cannot change when another field changes", () => {
    const rotated = subscription("app-orders", "app", "orders", "basic", {
      credentials: { rotation: { requestedAt: "2026-06-01T00:00:00Z" } },
    });
    const verdict = validateSubscription(
      "UPDATE",
      rotated,
      sub,
      facts({ client: undefined, api: undefined }),
      NOW,
    );
    expect(verdict.denials).toEqual([]);
  });
});

describe("security #3: a bring-your-own credentials Secret must be granted to the Subscription", () => {
  const byo = (secret: string, old?: Subscription) => ({
    ...(old ?? sub),
    spec: { ...(old ?? sub).spec, credentials: { secretRef: { name: secret } } },
  });
  const generated = {
    name: "victim-orders-credentials",
    labels: { "wicked.dev/subscription": "victim-orders" },
    ownerReferences: [
      {
        apiVersion: "wicked.dev/v1alpha1",
        kind: "Subscription",
        name: "victim-orders",
        uid: "u",
        controller: true,
      },
    ],
  };

  it("refuses another subscription's generated Secret on CREATE and when an UPDATE switches to it", () => {
    const verdict = create(byo(generated.name), facts({ credentialsSecret: generated }));
    expect(verdict.denials).toEqual([
      "Secret victim-orders-credentials belongs to Subscription victim-orders, and a Subscription may use only a Secret granted to it",
    ]);
    const switched = validateSubscription(
      "UPDATE",
      byo(generated.name),
      sub,
      facts({ credentialsSecret: generated }),
      NOW,
    );
    expect(switched.denials).toHaveLength(1);
  });

  it("refuses a Secret granted to another Subscription by its label", () => {
    const other = { name: "shared", labels: { "wicked.dev/subscription": "someone-else" } };
    expect(create(byo("shared"), facts({ credentialsSecret: other })).denials).toEqual([
      "Secret shared is granted to Subscription someone-else (label wicked.dev/subscription), not to app-orders; give this Subscription a Secret of its own",
    ]);
  });

  it("admits a Secret not granted or not created yet with a warning naming the label to set", () => {
    const unlabelled = create(byo("mine"), facts({ credentialsSecret: { name: "mine" } }));
    expect(unlabelled.denials).toEqual([]);
    expect(unlabelled.warnings.join()).toContain("label the Secret wicked.dev/subscription=app-orders");
    const missing = create(byo("mine"), facts());
    expect(missing.denials).toEqual([]);
    expect(missing.warnings.join()).toContain("with the label wicked.dev/subscription=app-orders");
  });

  it("admits a Secret granted to it without a word", () => {
    const granted = { name: "mine", labels: { "wicked.dev/subscription": "app-orders" } };
    expect(create(byo("mine"), facts({ credentialsSecret: granted }))).toEqual({ denials: [], warnings: [] });
  });
});

describe("defaultSubscription", () => {
  it("adds the reference labels to a subscription without labels", () => {
    expect(defaultSubscription("UPDATE", sub)).toEqual([
      {
        op: "add",
        path: "/metadata/labels",
        value: { "wicked.dev/client": "app", "wicked.dev/api": "orders", "wicked.dev/plan": "basic" },
      },
    ]);
  });

  it("replaces a stale plan label, adds missing ones and keeps other labels", () => {
    const labelled = subscription(
      "s",
      "app",
      "orders",
      "gold",
      {},
      {
        labels: { team: "shop", "wicked.dev/plan": "basic", "wicked.dev/client": "app" },
      },
    );
    expect(defaultSubscription("UPDATE", labelled)).toEqual([
      { op: "add", path: "/metadata/labels/wicked.dev~1api", value: "orders" },
      { op: "replace", path: "/metadata/labels/wicked.dev~1plan", value: "gold" },
    ]);
  });

  it("returns no patch when the labels are right", () => {
    const labelled = subscription("s", "app", "orders", "basic", {}, { labels: subscriptionLabels(sub) });
    expect(defaultSubscription("UPDATE", labelled)).toEqual([]);
  });

  it("adds the read-model finalizer on CREATE only, beside any other finalizer", () => {
    const labels = subscriptionLabels(sub);
    const bare = subscription("s", "app", "orders", "basic", {}, { labels });
    expect(defaultSubscription("CREATE", bare)).toEqual([
      { op: "add", path: "/metadata/finalizers", value: ["wicked.dev/read-model"] },
    ]);
    const other = subscription("s", "app", "orders", "basic", {}, { labels, finalizers: ["example.com/x"] });
    expect(defaultSubscription("CREATE", other)).toEqual([
      { op: "add", path: "/metadata/finalizers/-", value: "wicked.dev/read-model" },
    ]);
    const finalized = subscription(
      "s",
      "app",
      "orders",
      "basic",
      {},
      { labels, finalizers: ["wicked.dev/read-model"] },
    );
    expect(defaultSubscription("CREATE", finalized)).toEqual([]);
    // Removed on purpose (to let a stuck Subscription go): an update does not put it back.
    expect(defaultSubscription("UPDATE", bare)).toEqual([]);
  });

  it("leaves out names too long for a label value", () => {
    const long = "a".repeat(64);
    expect(subscriptionLabels(subscription("s", long, "orders", "basic"))).toEqual({
      "wicked.dev/api": "orders",
      "wicked.dev/plan": "basic",
    });
  });
});
