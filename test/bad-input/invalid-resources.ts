/**
 * fast-check generators of wicked resources the apiserver must refuse: each takes a valid manifest and breaks
 * exactly one rule of the CRD schema (a length, a pattern, an enum, a CEL rule, a list rule, a type, the
 * object name). Every case says which rule it breaks, so a case the apiserver accepts names the rule that
 * does not hold. Pure: no I/O.
 */
import fc from "fast-check";
import type { Json } from "../support/cluster.ts";

/** A manifest that breaks one rule, and which. */
export interface InvalidCase {
  kind: string;
  /** The resource's plural, for the request path. */
  plural: string;
  /** Which rule it breaks, for the report. */
  rule: string;
  manifest: Json;
}

/** Valid manifests of each kind, the starting point of every mutation. */
export const VALID: Record<string, { plural: string; spec: () => Json }> = {
  Api: {
    plural: "apis",
    spec: () => ({
      displayName: "Orders",
      upstream: { url: "http://orders.shop.svc:8080" },
      routes: [{ paths: ["/orders"] }],
      plans: ["basic"],
    }),
  },
  Plan: { plural: "plans", spec: () => ({ displayName: "Basic", rateLimits: { minute: 60 } }) },
  ApiClient: { plural: "apiclients", spec: () => ({ displayName: "App", owner: "dev@example.com" }) },
  Subscription: {
    plural: "subscriptions",
    spec: () => ({ clientRef: { name: "app" }, apiRef: { name: "orders" }, planRef: { name: "basic" } }),
  },
  ApiPortal: {
    plural: "apiportals",
    spec: () => ({
      displayName: "Portal",
      urls: { portal: "https://portal.example.com", gateway: "https://api.example.com" },
      database: { urlSecretRef: { name: "db", key: "url" } },
      gateway: { mode: "None" },
    }),
  },
};

/** A mutation of a spec: which rule it breaks and the broken spec. */
type Mutation = { rule: string; spec: Json };

function manifest(kind: string, name: string, spec: Json): Json {
  return { apiVersion: "wicked.dev/v1alpha1", kind, metadata: { name }, spec };
}

function mutate(kind: string, rule: string, change: (spec: Json) => void): Mutation {
  const spec = (VALID[kind] as { spec: () => Json }).spec();
  change(spec);
  return { rule, spec };
}

/** Strings longer than `max` characters: random ASCII for short limits, a repeated random piece for long ones. */
const longerThan = (max: number): fc.Arbitrary<string> =>
  max <= 1000
    ? fc.string({ minLength: max + 1, maxLength: max + 50, unit: "grapheme-ascii" })
    : fc
        .tuple(
          fc.string({ minLength: 1, maxLength: 8, unit: "grapheme-ascii" }),
          fc.integer({ min: 1, max: 50 }),
        )
        .map(([piece, extra]) => piece.repeat(Math.ceil((max + extra) / piece.length)));
/** Strings that are not DNS-1123 subdomains (object names, references). */
const notADnsName = fc.oneof(
  fc.constantFrom(
    "",
    "Upper",
    "under_score",
    "-leading",
    "trailing-",
    "a..b",
    "spaces here",
    "ünïcode",
    "a/b",
  ),
  fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(s)),
  fc.constant("a".repeat(254)),
);
/** Group names the `^[a-z][a-z0-9-]*$` pattern refuses. */
const notAGroup = fc.oneof(
  fc.constantFrom("Admins", "1team", "-x", "a_b", "tëam", "a b"),
  fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/^[a-z][a-z0-9-]*$/.test(s)),
);
/** Values that are not JSON strings. */
const notAString = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.array(fc.string(), { minLength: 1, maxLength: 3 }),
  fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.string(), { minKeys: 1, maxKeys: 2 }),
);
/** Values that are not JSON integers. */
const notAnInteger = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.boolean(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
  fc.array(fc.integer(), { minLength: 1, maxLength: 2 }),
);
/** Values that are not JSON booleans. */
const notABoolean = fc.oneof(
  fc.constantFrom("true", "yes", "1", ""),
  fc.integer(),
  fc.array(fc.boolean(), { minLength: 1 }),
);

const apiMutations: fc.Arbitrary<Mutation> = fc.oneof(
  longerThan(100).map((v) => mutate("Api", "displayName maxLength 100", (s) => (s.displayName = v))),
  fc.constant(mutate("Api", "displayName minLength 1", (s) => (s.displayName = ""))),
  notAString.map((v) => mutate("Api", "displayName type string", (s) => (s.displayName = v))),
  fc.constant(
    mutate(
      "Api",
      "upstream: url xor serviceRef (both)",
      (s) => (s.upstream.serviceRef = { name: "svc", port: 80 }),
    ),
  ),
  fc.constant(mutate("Api", "upstream: url xor serviceRef (neither)", (s) => (s.upstream = {}))),
  fc
    .oneof(
      fc.constantFrom(
        "ftp://orders",
        "orders.svc",
        "http://",
        "https:// x.com",
        "http://a b/c",
        "javascript:alert(1)",
      ),
      fc.string({ minLength: 1, maxLength: 30 }).filter((u) => !/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(u)),
    )
    .map((v) => mutate("Api", "upstream.url pattern", (s) => (s.upstream.url = v))),
  fc
    .integer({ min: -5, max: 70_000 })
    .filter((p) => p < 1 || p > 65535)
    .map((port) =>
      mutate(
        "Api",
        "upstream.serviceRef.port range",
        (s) => (s.upstream = { serviceRef: { name: "svc", port } }),
      ),
    ),
  fc.constant(mutate("Api", "routes minItems 1", (s) => (s.routes = []))),
  fc.constant(
    mutate(
      "Api",
      "routes maxItems 16",
      (s) => (s.routes = Array.from({ length: 17 }, (_, i) => ({ paths: [`/r${i}`] }))),
    ),
  ),
  fc.constant(mutate("Api", "route needs a path or a host", (s) => (s.routes = [{ methods: ["GET"] }]))),
  fc
    .string({ minLength: 1, maxLength: 30 })
    .filter((p) => !/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(p))
    .map((p) => mutate("Api", "routes[].paths pattern", (s) => (s.routes = [{ paths: [p] }]))),
  fc
    .constantFrom("UPPER.example.com", "under_score.com", "-lead.com", "a..b", "*.*.x", "host:80", "ünï.com")
    .map((h) => mutate("Api", "routes[].hosts pattern", (s) => (s.routes = [{ hosts: [h] }]))),
  fc
    .constantFrom("FETCH", "get", "", "PURGE")
    .map((m) =>
      mutate("Api", "routes[].methods enum", (s) => (s.routes = [{ paths: ["/x"], methods: [m] }])),
    ),
  fc.constant(mutate("Api", "routes[].paths listType set", (s) => (s.routes = [{ paths: ["/a", "/a"] }]))),
  fc
    .constantFrom("basic-auth", "KEY-AUTH", "", "oauth")
    .map((t) => mutate("Api", "auth.type enum", (s) => (s.auth = { type: t }))),
  fc
    .constantFrom("X Api Key", "X-Api-Key:", "Ключ", "X_Api_Key")
    .map((h) =>
      mutate("Api", "auth.keyHeader pattern", (s) => (s.auth = { type: "key-auth", keyHeader: h })),
    ),
  fc.constant(
    mutate(
      "Api",
      "auth.keyHeader only with key-auth",
      (s) => (s.auth = { type: "oauth2", keyHeader: "X-Key" }),
    ),
  ),
  fc.constant(
    mutate(
      "Api",
      "auth.scopes only with oauth2",
      (s) => (s.auth = { type: "key-auth", scopes: [{ name: "read" }] }),
    ),
  ),
  fc.constant(mutate("Api", "key-auth needs a plan", (s) => (s.plans = []))),
  fc.constant(mutate("Api", "auth none takes no plans", (s) => (s.auth = { type: "none" }))),
  fc.constant(mutate("Api", "plans listType set", (s) => (s.plans = ["basic", "basic"]))),
  fc.constant(
    mutate("Api", "plans maxItems 16", (s) => (s.plans = Array.from({ length: 17 }, (_, i) => `p${i}`))),
  ),
  notAGroup.map((g) => mutate("Api", "requiredGroup pattern", (s) => (s.requiredGroup = g))),
  fc
    .constantFrom("key-auth", "jwt", "acl", "rate-limiting", "oauth2")
    .map((n) => mutate("Api", "plugins: managed plugins refused", (s) => (s.plugins = [{ name: n }]))),
  fc
    .constantFrom("Cors", "1cors", "re_quest", "")
    .map((n) => mutate("Api", "plugins[].name pattern", (s) => (s.plugins = [{ name: n }]))),
  fc.constant(
    mutate("Api", "plugins listMapKey name", (s) => (s.plugins = [{ name: "cors" }, { name: "cors" }])),
  ),
  fc.constant(
    mutate(
      "Api",
      "deprecation.sunset after since",
      (s) => (s.deprecation = { since: "2030-01-01T00:00:00Z", sunset: "2029-01-01T00:00:00Z" }),
    ),
  ),
  fc
    .constantFrom("yesterday", "2030-13-01T00:00:00Z", "2030-01-01")
    .map((d) => mutate("Api", "deprecation.since date-time", (s) => (s.deprecation = { since: d }))),
  fc.constant(
    mutate(
      "Api",
      "openApi: exactly one source",
      (s) => (s.openApi = { inline: "{}", url: "https://x.example.com/o.json" }),
    ),
  ),
  fc.constant(mutate("Api", "openApi: exactly one source (none)", (s) => (s.openApi = {}))),
  longerThan(65536).map((d) => mutate("Api", "description maxLength 65536", (s) => (s.description = d))),
  fc.constant(
    mutate("Api", "tags maxItems 16", (s) => (s.tags = Array.from({ length: 17 }, (_, i) => `t${i}`))),
  ),
);

const planMutations: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant(mutate("Plan", "rateLimits minProperties 1", (s) => (s.rateLimits = {}))),
  fc
    .tuple(fc.integer({ min: 2, max: 1_000_000 }), fc.integer({ min: 1, max: 1_000_000 }))
    .filter(([second, minute]) => second > minute)
    .map(([second, minute]) =>
      mutate("Plan", "rateLimits.second <= minute", (s) => (s.rateLimits = { second, minute })),
    ),
  fc
    .tuple(fc.integer({ min: 2, max: 60_000_000 }), fc.integer({ min: 1, max: 2_000_000_000 }))
    .filter(([minute, hour]) => minute > hour)
    .map(([minute, hour]) =>
      mutate("Plan", "rateLimits.minute <= hour", (s) => (s.rateLimits = { minute, hour })),
    ),
  fc
    .tuple(fc.integer({ min: 2, max: 100_000 }), fc.integer({ min: 1, max: 100_000 }))
    .filter(([day, month]) => day > month)
    .map(([day, month]) => mutate("Plan", "rateLimits.day <= month", (s) => (s.rateLimits = { day, month }))),
  fc
    .constantFrom("second", "minute", "hour", "day", "month")
    .chain((period) => fc.integer({ min: -1_000, max: 0 }).map((n) => [period, n] as const))
    .map(([period, n]) =>
      mutate("Plan", `rateLimits.${period} minimum 1`, (s) => (s.rateLimits = { [period]: n })),
    ),
  fc
    .integer({ min: 1_000_001, max: 2_000_000_000 })
    .map((n) => mutate("Plan", "rateLimits.second maximum", (s) => (s.rateLimits = { second: n }))),
  notAnInteger.map((v) =>
    mutate("Plan", "rateLimits.minute type integer", (s) => (s.rateLimits = { minute: v })),
  ),
  notABoolean.map((v) => mutate("Plan", "requiresApproval type boolean", (s) => (s.requiresApproval = v))),
  notAGroup.map((g) => mutate("Plan", "requiredGroup pattern", (s) => (s.requiredGroup = g))),
  longerThan(10_000).map((d) => mutate("Plan", "description maxLength 10000", (s) => (s.description = d))),
  fc.constant(mutate("Plan", "displayName required", (s) => delete s.displayName)),
  fc.constant(
    mutate("Plan", "plugins: managed plugins refused", (s) => (s.plugins = [{ name: "rate-limiting" }])),
  ),
);

const clientMutations: fc.Arbitrary<Mutation> = fc.oneof(
  fc
    .oneof(
      fc.constantFrom("no-at-sign", "a@b", "two@@example.com", "sp ace@example.com", "@example.com", "x@"),
      fc.string({ minLength: 3, maxLength: 40 }).filter((e) => !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(e)),
    )
    .map((o) => mutate("ApiClient", "owner email pattern", (s) => (s.owner = o))),
  fc
    .constantFrom("secret", "Public", "")
    .map((t) => mutate("ApiClient", "clientType enum", (s) => (s.clientType = t))),
  fc.constant(mutate("ApiClient", "public client needs a redirect URI", (s) => (s.clientType = "public"))),
  fc
    .constantFrom(
      "http://example.com/cb",
      "javascript:alert(1)",
      "https://app.example.com/cb#frag",
      "ftp://x/cb",
      "https://a b/cb",
      "http://localhost.evil.com/cb",
    )
    .map((u) => mutate("ApiClient", "redirectUris pattern", (s) => (s.redirectUris = [u]))),
  fc.constant(
    mutate(
      "ApiClient",
      "redirectUris maxItems 16",
      (s) => (s.redirectUris = Array.from({ length: 17 }, (_, i) => `https://app.example.com/cb${i}`)),
    ),
  ),
  fc
    .constantFrom("Admin", "owner", "")
    .map((r) =>
      mutate(
        "ApiClient",
        "collaborators[].role enum",
        (s) => (s.collaborators = [{ user: "a@example.com", role: r }]),
      ),
    ),
  fc.constant(
    mutate(
      "ApiClient",
      "collaborators listMapKey user",
      (s) =>
        (s.collaborators = [
          { user: "a@example.com", role: "Reader" },
          { user: "a@example.com", role: "Owner" },
        ]),
    ),
  ),
  longerThan(100).map((v) => mutate("ApiClient", "displayName maxLength 100", (s) => (s.displayName = v))),
);

const subscriptionMutations: fc.Arbitrary<Mutation> = fc.oneof(
  fc
    .tuple(fc.constantFrom("clientRef", "apiRef", "planRef"), notADnsName)
    .map(([ref, name]) =>
      mutate("Subscription", `${ref}.name pattern or length`, (s) => (s[ref] = { name })),
    ),
  fc
    .constantFrom("clientRef", "apiRef", "planRef")
    .map((ref) => mutate("Subscription", `${ref} required`, (s) => delete s[ref])),
  fc.constant(
    mutate(
      "Subscription",
      "approval.decidedBy required to decide",
      (s) => (s.approval = { decision: "Approved" }),
    ),
  ),
  fc.constant(
    mutate(
      "Subscription",
      "approval.reason required to reject",
      (s) => (s.approval = { decision: "Rejected", decidedBy: "amy@example.com" }),
    ),
  ),
  fc
    .constantFrom("approved", "Maybe", "")
    .map((d) =>
      mutate(
        "Subscription",
        "approval.decision enum",
        (s) => (s.approval = { decision: d, decidedBy: "amy" }),
      ),
    ),
  fc.constant(
    mutate(
      "Subscription",
      "rotation only for generated credentials",
      (s) =>
        (s.credentials = { secretRef: { name: "mine" }, rotation: { requestedAt: "2030-01-01T00:00:00Z" } }),
    ),
  ),
  fc
    .oneof(fc.integer({ min: 2_592_001, max: 2_000_000_000 }), fc.integer({ min: -100_000, max: -1 }))
    .map((n) =>
      mutate(
        "Subscription",
        "rotation.overlapSeconds range",
        (s) => (s.credentials = { rotation: { requestedAt: "2030-01-01T00:00:00Z", overlapSeconds: n } }),
      ),
    ),
  fc
    .constantFrom("now", "2030-01-01", "01/02/2030", "")
    .map((d) =>
      mutate(
        "Subscription",
        "rotation.requestedAt date-time",
        (s) => (s.credentials = { rotation: { requestedAt: d } }),
      ),
    ),
);

const portalMutations: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant(mutate("ApiPortal", "urls.gateway required", (s) => delete s.urls.gateway)),
  fc
    .constantFrom("ftp://portal.example.com", "portal.example.com", "https://")
    .map((u) => mutate("ApiPortal", "urls.portal pattern", (s) => (s.urls.portal = u))),
  fc.constant(mutate("ApiPortal", "urls.api differs from urls.portal", (s) => (s.urls.api = s.urls.portal))),
  fc
    .constantFrom("Cloud", "external", "")
    .map((m) => mutate("ApiPortal", "gateway.mode enum", (s) => (s.gateway = { mode: m }))),
  fc.constant(mutate("ApiPortal", "External needs adminUrl", (s) => (s.gateway = { mode: "External" }))),
  fc.constant(
    mutate(
      "ApiPortal",
      "adminUrl only with External",
      (s) => (s.gateway = { mode: "None", adminUrl: "http://kong:8001" }),
    ),
  ),
  fc
    .oneof(fc.integer({ min: -10, max: 7 }), fc.integer({ min: 129, max: 10_000 }))
    .map((n) =>
      mutate("ApiPortal", "passwordMinLength range", (s) => (s.login = { local: { passwordMinLength: n } })),
    ),
  fc.constant(
    mutate("ApiPortal", "somebody must be able to log in", (s) => (s.login = { local: { enabled: false } })),
  ),
  notAGroup.map((g) => mutate("ApiPortal", "groups.admin pattern", (s) => (s.groups = { admin: g }))),
  fc
    .constantFrom("Delete!", "retain", "")
    .map((p) => mutate("ApiPortal", "database.deletionPolicy enum", (s) => (s.database.deletionPolicy = p))),
  fc
    .constantFrom("bad key", "a/b", "")
    .map((k) =>
      mutate("ApiPortal", "database.urlSecretRef.key pattern", (s) => (s.database.urlSecretRef.key = k)),
    ),
);

const MUTATIONS: Record<string, fc.Arbitrary<Mutation>> = {
  Api: apiMutations,
  Plan: planMutations,
  ApiClient: clientMutations,
  Subscription: subscriptionMutations,
  ApiPortal: portalMutations,
};

/** Invalid manifests of one kind, named by `name()` (called once per case). */
export function invalidOfKind(kind: keyof typeof VALID, name: () => string): fc.Arbitrary<InvalidCase> {
  const plural = (VALID[kind] as { plural: string }).plural;
  return (MUTATIONS[kind] as fc.Arbitrary<Mutation>).map(({ rule, spec }) => ({
    kind,
    plural,
    rule,
    manifest: manifest(kind, name(), spec),
  }));
}

/** A valid spec with one leaf of the wrong JSON type (a string where an integer belongs, …). */
export function wrongTypes(name: () => string): fc.Arbitrary<InvalidCase> {
  const leaves: Array<{
    kind: string;
    path: string[];
    type: "string" | "integer" | "boolean" | "object" | "array";
  }> = [
    { kind: "Api", path: ["displayName"], type: "string" },
    { kind: "Api", path: ["upstream", "url"], type: "string" },
    { kind: "Api", path: ["upstream"], type: "object" },
    { kind: "Api", path: ["routes"], type: "array" },
    { kind: "Api", path: ["plans"], type: "array" },
    { kind: "Plan", path: ["displayName"], type: "string" },
    { kind: "Plan", path: ["rateLimits"], type: "object" },
    { kind: "Plan", path: ["rateLimits", "minute"], type: "integer" },
    { kind: "ApiClient", path: ["owner"], type: "string" },
    { kind: "Subscription", path: ["clientRef"], type: "object" },
    { kind: "Subscription", path: ["planRef", "name"], type: "string" },
    { kind: "ApiPortal", path: ["urls"], type: "object" },
    { kind: "ApiPortal", path: ["gateway", "mode"], type: "string" },
  ];
  const wrong = {
    string: notAString,
    integer: notAnInteger,
    boolean: notABoolean,
    object: fc.oneof(
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.array(fc.integer(), { minLength: 1, maxLength: 2 }),
    ),
    array: fc.oneof(
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), fc.integer(), { minKeys: 1, maxKeys: 2 }),
    ),
  };
  return fc.constantFrom(...leaves).chain((leaf) =>
    wrong[leaf.type].map((value) => {
      const entry = VALID[leaf.kind] as { plural: string; spec: () => Json };
      const spec = entry.spec();
      let at = spec;
      for (const key of leaf.path.slice(0, -1)) at = at[key];
      at[leaf.path[leaf.path.length - 1] as string] = value;
      return {
        kind: leaf.kind,
        plural: entry.plural,
        rule: `spec.${leaf.path.join(".")} type ${leaf.type}`,
        manifest: manifest(leaf.kind, name(), spec),
      };
    }),
  );
}

/** A valid spec under an object name the apiserver refuses. */
export function invalidNames(): fc.Arbitrary<InvalidCase> {
  return fc.tuple(fc.constantFrom(...Object.keys(VALID)), notADnsName).map(([kind, name]) => {
    const entry = VALID[kind] as { plural: string; spec: () => Json };
    return {
      kind,
      plural: entry.plural,
      rule: "metadata.name DNS-1123 subdomain",
      manifest: manifest(kind, name, entry.spec()),
    };
  });
}
