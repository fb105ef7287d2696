/**
 * The valid world the cross-object bad-input suite runs in: Plans, ApiClients, one ApiPortal, Apis with
 * routes on paths, hosts and methods, Subscriptions (one of them Rejected), and one Api, Plan and ApiClient
 * held in deletion by a test finalizer. The generators in cross-object-cases.ts compute what the webhooks
 * must say from these tables, never from the webhooks' code. Pure: no I/O.
 */
import type { Json } from "../support/cluster.ts";

/** Held on the objects that stay "being deleted" for the whole run; the suite takes it off at the end. */
export const HOLD_FINALIZER = "test.wicked.dev/hold";

/** HTTP methods a route may name. */
export const METHODS = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
  "TRACE",
  "CONNECT",
] as const;

/** One route of a world Api, as in its spec. */
export interface WorldRoute {
  paths?: string[];
  hosts?: string[];
  methods?: string[];
}

/** A world Api and the facts about it the rules depend on. */
export interface WorldApi {
  name: string;
  routes: WorldRoute[];
  /** spec.plans, in order (the webhook lists them in this order). */
  plans: string[];
  open?: boolean;
  deprecation?: { since: string; sunset: string; message?: string };
}

/** The one ApiPortal of the namespace. */
export const PORTAL = "portal";

/** Plans that exist; `lonely` is offered by no Api, `partner` needs approval. */
export const PLANS = ["basic", "gold", "partner", "lonely"] as const;

/** Plans the `roadmap` Api lists before they exist, so a Plan created later is "offered". */
export const UPCOMING_PLANS = Array.from({ length: 12 }, (_, i) => `coming-${i}`);

/** ApiClients that exist; only `app` holds live Subscriptions. */
export const CLIENTS = ["app", "app2", "app3"] as const;

/** One object of each referable kind that stays being deleted (a finalizer holds it). */
export const DOOMED = { api: "retired-api", plan: "retired-plan", client: "retired-app" } as const;

/** An Api past its sunset. */
export const SUNSET = "2020-01-01T00:00:00Z";
/** The deprecation of the Api that is deprecated but not switched off yet. */
export const DEPRECATED = { since: "2025-01-01T00:00:00Z", sunset: "2099-01-01T00:00:00Z" };

/** The Apis that exist and are not being deleted. Their expanded route keys are pairwise distinct. */
export const APIS: readonly WorldApi[] = [
  { name: "orders", routes: [{ paths: ["/orders"] }], plans: ["basic", "partner"] },
  {
    name: "billing",
    routes: [
      {
        paths: ["/billing", "/invoices"],
        hosts: ["api.example.com", "billing.example.com"],
        methods: ["GET", "POST"],
      },
    ],
    plans: ["basic"],
  },
  {
    name: "catalog",
    routes: [{ hosts: ["catalog.example.com"] }, { paths: ["/catalog"], methods: ["GET", "HEAD"] }],
    plans: ["basic", "gold"],
  },
  { name: "status-page", routes: [{ paths: ["/status"] }], plans: [], open: true },
  {
    name: "legacy",
    routes: [{ paths: ["/legacy"] }],
    plans: ["basic"],
    deprecation: { since: "2019-01-01T00:00:00Z", sunset: SUNSET, message: "use orders" },
  },
  {
    name: "classic",
    routes: [{ paths: ["/classic"], hosts: ["*.classic.example.com"] }],
    plans: ["basic"],
    deprecation: DEPRECATED,
  },
  { name: "spare", routes: [{ paths: ["/spare"] }], plans: ["basic", "gold"] },
  {
    name: "roadmap",
    routes: [{ paths: ["/roadmap"], methods: ["GET"] }],
    plans: ["basic", ...UPCOMING_PLANS],
  },
];

/** The Api that is being deleted: routes like its may be reused, nobody may subscribe to it. */
export const DOOMED_API: WorldApi = {
  name: DOOMED.api,
  routes: [{ paths: ["/retired"] }, { hosts: ["retired.example.com"] }],
  plans: ["basic"],
};

/** A Subscription of the world. */
export interface WorldSubscription {
  name: string;
  client: string;
  api: string;
  plan: string;
  rejected?: boolean;
}

/** The world's Subscriptions: `app` uses orders and catalog; app2's billing Subscription was Rejected. */
export const SUBSCRIPTIONS: readonly WorldSubscription[] = [
  { name: "app-orders", client: "app", api: "orders", plan: "basic" },
  { name: "app-catalog", client: "app", api: "catalog", plan: "gold" },
  { name: "app2-billing", client: "app2", api: "billing", plan: "basic", rejected: true },
];

/** Every name the world uses, so generated "missing" names never hit one. */
export const TAKEN_NAMES: ReadonlySet<string> = new Set<string>([
  PORTAL,
  ...PLANS,
  ...UPCOMING_PLANS,
  ...CLIENTS,
  ...Object.values(DOOMED),
  ...APIS.map((a) => a.name),
  ...SUBSCRIPTIONS.map((s) => s.name),
]);

/** The world Api of a name, if it exists and is not being deleted. */
export function worldApi(name: string): WorldApi | undefined {
  return APIS.find((a) => a.name === name);
}

/** The live (not Rejected) Subscription of a client to an Api, if any. */
export function liveSubscription(client: string, api: string): WorldSubscription | undefined {
  return SUBSCRIPTIONS.find((s) => !s.rejected && s.client === client && s.api === api);
}

const wicked = (kind: string, name: string, spec: Json, finalizers?: string[]): Json => ({
  apiVersion: "wicked.dev/v1alpha1",
  kind,
  metadata: { name, ...(finalizers ? { finalizers } : {}) },
  spec,
});

/** The manifest of a world Api. */
export function apiManifest(api: WorldApi, finalizers?: string[]): Json {
  return wicked(
    "Api",
    api.name,
    {
      displayName: api.name,
      upstream: { url: `http://${api.name}.shop.svc:8080` },
      routes: api.routes,
      ...(api.open ? { auth: { type: "none" } } : { plans: api.plans }),
      ...(api.deprecation ? { deprecation: api.deprecation } : {}),
    },
    finalizers,
  );
}

/** A Plan manifest; `partner` needs approval, every world Plan has rate limits. */
export function planManifest(name: string, finalizers?: string[]): Json {
  return wicked(
    "Plan",
    name,
    {
      displayName: name,
      rateLimits: { minute: 600 },
      ...(name === "partner" ? { requiresApproval: true } : {}),
    },
    finalizers,
  );
}

/** An ApiClient manifest. */
export function clientManifest(name: string, finalizers?: string[]): Json {
  return wicked("ApiClient", name, { displayName: name, owner: "dev@example.com" }, finalizers);
}

/** A Subscription manifest. */
export function subscriptionManifest(
  name: string,
  client: string,
  api: string,
  plan: string,
  extra: Json = {},
): Json {
  return wicked("Subscription", name, {
    clientRef: { name: client },
    apiRef: { name: api },
    planRef: { name: plan },
    ...extra,
  });
}

/** An ApiPortal manifest with gateway mode None, on the database of Secret `db`. */
export function portalManifest(name: string, displayName = name): Json {
  return wicked("ApiPortal", name, {
    displayName,
    urls: { portal: "https://developer.example.com", gateway: "https://api.example.com" },
    database: { urlSecretRef: { name: "db", key: "url" } },
    gateway: { mode: "None" },
  });
}

/** The live world, in an order every object is admitted in (what is referred to comes first). */
export function worldManifests(): Json[] {
  return [
    ...PLANS.map((p) => planManifest(p)),
    ...CLIENTS.map((c) => clientManifest(c)),
    portalManifest(PORTAL, "Developer portal"),
    ...APIS.map((a) => apiManifest(a)),
    ...SUBSCRIPTIONS.map((s) =>
      subscriptionManifest(
        s.name,
        s.client,
        s.api,
        s.plan,
        s.rejected
          ? { approval: { decision: "Rejected", decidedBy: "admin", reason: "not this quarter" } }
          : {},
      ),
    ),
  ];
}

/** The objects to hold in deletion: created with HOLD_FINALIZER, then deleted. */
export function doomedManifests(): Array<{ plural: string; manifest: Json }> {
  return [
    { plural: "plans", manifest: planManifest(DOOMED.plan, [HOLD_FINALIZER]) },
    { plural: "apiclients", manifest: clientManifest(DOOMED.client, [HOLD_FINALIZER]) },
    { plural: "apis", manifest: apiManifest(DOOMED_API, [HOLD_FINALIZER]) },
  ];
}
