/**
 * Resources for the Kong engine's tests: a portal, Apis, Plans and Subscriptions with just the fields the
 * mapping reads, and a desired-state input built from them. Used by tests only.
 */
import { createHash } from "node:crypto";
import type { Api, ApiPortal, ApiSpec, Plan, PlanSpec, Subscription } from "../../api/v1alpha1/index.ts";
import type { DesiredInput, DesiredSubscription, SubscriptionCredential } from "./desired.ts";
import { scopeTags } from "./tags.ts";

/** The namespace of the test resources. */
export const TEST_NAMESPACE = "shop";

/** A portal named `portal` in the test namespace. */
export function testPortal(name = "portal"): ApiPortal {
  return {
    apiVersion: "wicked.dev/v1alpha1",
    kind: "ApiPortal",
    metadata: { name, namespace: TEST_NAMESPACE, uid: "00000000-0000-4000-8000-000000000001" },
    spec: {
      displayName: "Shop portal",
      urls: { portal: "https://portal.example.com", gateway: "https://api.example.com" },
      database: { urlSecretRef: { name: "db", key: "url" } },
      gateway: { mode: "External", adminUrl: "http://kong:8001" },
    },
  };
}

/** The scope tags of the test portal. */
export function testScopeTags(portal: ApiPortal = testPortal()): string[] {
  return scopeTags(portal.metadata.namespace ?? "", portal.metadata.name ?? "");
}

/** An Api with one route `/<name>` and key-auth, unless `spec` says otherwise. */
export function testApi(name: string, spec: Partial<ApiSpec> = {}): Api {
  return {
    apiVersion: "wicked.dev/v1alpha1",
    kind: "Api",
    metadata: { name, namespace: TEST_NAMESPACE, uid: uidOf(`api/${name}`), generation: 1 },
    spec: {
      displayName: name,
      upstream: { url: "http://upstream.invalid:8080/v1" },
      routes: [{ paths: [`/${name}`] }],
      auth: { type: "key-auth" },
      plans: ["gold"],
      ...spec,
    },
  };
}

/** A Plan, by default 100 requests per minute. */
export function testPlan(name = "gold", spec: Partial<PlanSpec> = {}): Plan {
  return {
    apiVersion: "wicked.dev/v1alpha1",
    kind: "Plan",
    metadata: { name, namespace: TEST_NAMESPACE, uid: uidOf(`plan/${name}`), generation: 1 },
    spec: { displayName: name, rateLimits: { minute: 100 }, ...spec },
  };
}

/** A deterministic UID for a test object. */
export function uidOf(seed: string): string {
  const hex = createHash("sha256").update(seed).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** An approved subscription of `api` under `plan` with the given credential. */
export function testSubscription(
  name: string,
  api: Api,
  plan: Plan,
  credential: SubscriptionCredential,
): DesiredSubscription {
  const subscription: Subscription = {
    apiVersion: "wicked.dev/v1alpha1",
    kind: "Subscription",
    metadata: { name, namespace: TEST_NAMESPACE, uid: uidOf(`subscription/${name}`), generation: 1 },
    spec: {
      clientRef: { name: `${name}-app` },
      apiRef: { name: api.metadata.name ?? "" },
      planRef: { name: plan.metadata.name ?? "" },
      approval: { decision: "Approved", decidedBy: "approver@example.com", plan: plan.metadata.name ?? "" },
    },
  };
  return { subscription, api, plan, credential };
}

/** A desired-state input; every Api's upstream is its `upstream.url` or `upstreamUrl`. */
export function testInput(
  apis: Api[],
  subscriptions: DesiredSubscription[] = [],
  upstreamUrl?: string,
  portal: ApiPortal = testPortal(),
): DesiredInput {
  const plans = [...new Map(subscriptions.map((s) => [s.plan.metadata.name, s.plan])).values()];
  return {
    portal,
    apis,
    plans,
    subscriptions,
    resolveUpstream: (api) => upstreamUrl ?? api.spec.upstream.url ?? "",
  };
}
