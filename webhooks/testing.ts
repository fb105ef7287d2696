/** Builders of wicked resources for the webhooks' tests (never imported by the server). */
import type { Api, ApiClient, ApiPortal, Plan, Subscription } from "../api/v1alpha1/index.ts";

const NS = "shop";

/** An Api named `name` in namespace shop with one route /<name> and the plans basic and gold. */
export function api(name: string, spec: Partial<Api["spec"]> = {}, meta: Partial<Api["metadata"]> = {}): Api {
  return {
    apiVersion: "wicked.dev/v1alpha1",
    kind: "Api",
    metadata: { name, namespace: NS, ...meta },
    spec: {
      displayName: name,
      upstream: { url: "http://orders.shop.svc:8080" },
      routes: [{ paths: [`/${name}`] }],
      plans: ["basic", "gold"],
      ...spec,
    },
  };
}

/** A Plan with a minute limit unless `spec` says otherwise. */
export function plan(
  name: string,
  spec: Partial<Plan["spec"]> = {},
  meta: Partial<Plan["metadata"]> = {},
): Plan {
  return {
    apiVersion: "wicked.dev/v1alpha1",
    kind: "Plan",
    metadata: { name, namespace: NS, ...meta },
    spec: { displayName: name, rateLimits: { minute: 60 }, ...spec },
  };
}

/** An ApiClient. */
export function client(name: string, meta: Partial<ApiClient["metadata"]> = {}): ApiClient {
  return {
    apiVersion: "wicked.dev/v1alpha1",
    kind: "ApiClient",
    metadata: { name, namespace: NS, ...meta },
    spec: { displayName: name, owner: "dev@shop.example.com" },
  };
}

/** A Subscription of `clientName` to `apiName` under `planName`. */
export function subscription(
  name: string,
  clientName: string,
  apiName: string,
  planName: string,
  extra: Partial<Subscription["spec"]> = {},
  meta: Partial<Subscription["metadata"]> = {},
): Subscription {
  return {
    apiVersion: "wicked.dev/v1alpha1",
    kind: "Subscription",
    metadata: { name, namespace: NS, ...meta },
    spec: {
      clientRef: { name: clientName },
      apiRef: { name: apiName },
      planRef: { name: planName },
      ...extra,
    },
  };
}

/** An ApiPortal. */
export function portal(name: string, meta: Partial<ApiPortal["metadata"]> = {}): ApiPortal {
  return {
    apiVersion: "wicked.dev/v1alpha1",
    kind: "ApiPortal",
    metadata: { name, namespace: NS, ...meta },
    spec: {
      displayName: name,
      urls: { portal: "https://developer.shop.example.com", gateway: "https://api.shop.example.com" },
      database: { urlSecretRef: { name: "db", key: "url" } },
      gateway: { mode: "None" },
    },
  };
}
