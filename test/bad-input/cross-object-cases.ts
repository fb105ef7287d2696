/**
 * fast-check generators of requests that are valid by the CRD schema but break (or, for the valid ones,
 * keep) the rules that span objects, which only the admission webhooks enforce. Each invalid case says which
 * webhook must refuse it and the sentences its message must contain, computed from the world's tables in
 * cross-object-world.ts (not from the webhooks' code), plus the sentences of rules that do not apply, which
 * must be absent. Pure: no I/O.
 */
import fc from "fast-check";
import type { Json } from "../support/cluster.ts";
import {
  APIS,
  CLIENTS,
  DOOMED,
  DOOMED_API,
  liveSubscription,
  METHODS,
  PLANS,
  PORTAL,
  portalManifest,
  SUBSCRIPTIONS,
  subscriptionManifest,
  TAKEN_NAMES,
  type WorldApi,
  type WorldRoute,
  worldApi,
} from "./cross-object-world.ts";

/** A rule a case breaks and a sentence of the refusal that names the problem. */
export interface Refusal {
  rule: string;
  says: string;
}

/** A request to the apiserver: create `body`, or merge-patch `body` into the existing object `name`. */
export interface AdmissionCase {
  plural: string;
  operation: "create" | "update";
  name: string;
  body: Json;
}

/** A request one webhook must refuse. */
export interface InvalidCase extends AdmissionCase {
  /** The webhook's name without `.wicked.dev`, e.g. `validate.subscriptions`. */
  webhook: string;
  /** Every rule broken; at least one. */
  refusals: Refusal[];
  /** Sentences of rules the case does not break: the refusal must not contain them. */
  notSays: string[];
}

/** A request the webhooks must admit, with the warnings they must (and must not) give. */
export interface ValidCase extends AdmissionCase {
  /** What makes it interesting, for the report. */
  flavour: string;
  warns: string[];
  notWarns: string[];
}

/** Object names of refused requests start with this; nothing else in the world does. */
export const REFUSED_PREFIX = "no-";
/** Object names of admitted requests start with this. */
export const ADMITTED_PREFIX = "ok-";

/** Names the suite gives out, one per call. */
export type Fresh = (prefix: string) => string;

/** Names that match the reference pattern and name nothing in the world. */
export const missingName: fc.Arbitrary<string> = fc
  .stringMatching(/^[a-z0-9]([-a-z0-9.]{0,40}[a-z0-9])?$/)
  .filter(
    (n) =>
      n.length <= 253 &&
      !TAKEN_NAMES.has(n) &&
      !n.startsWith(REFUSED_PREFIX) &&
      !n.startsWith(ADMITTED_PREFIX) &&
      !n.startsWith("coming-"),
  );

/** A reference a generated Subscription makes, and what it refers to. */
type Ref = { name: string; state: "live" | "missing" | "doomed" };

const refTo = (live: readonly string[], doomed: string): fc.Arbitrary<Ref> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...live).map((name): Ref => ({ name, state: "live" })) },
    { weight: 1, arbitrary: missingName.map((name): Ref => ({ name, state: "missing" })) },
    { weight: 1, arbitrary: fc.constant<Ref>({ name: doomed, state: "doomed" }) },
  );

const KINDS = {
  client: { kind: "ApiClient", field: "spec.clientRef.name" },
  api: { kind: "Api", field: "spec.apiRef.name" },
  plan: { kind: "Plan", field: "spec.planRef.name" },
} as const;

const doesNotExist = (kind: string, name: string, ns: string) =>
  `${kind} ${name} does not exist in namespace ${ns}`;
const beingDeleted = (kind: string, name: string, ns: string) =>
  `${kind} ${name} in namespace ${ns} is being deleted`;
const notOffered = (api: WorldApi, plan: string) =>
  `Api ${api.name} does not offer plan ${plan} (it offers ${api.plans.join(", ") || "no plans"})`;

/**
 * What the Subscription webhook says about references that do not resolve yet (missing, being deleted), an
 * open Api and a Plan the Api does not offer: a warning each, never a refusal — GitOps tools apply in their
 * own order and the Subscription reports ResolvedRefs=False until they resolve. `warns` holds what it must
 * say, `notSays` what it must not (neither in a warning nor in a refusal).
 */
function unresolvedWarnings(ns: string, refs: Partial<Record<keyof typeof KINDS, Ref>>, api?: WorldApi) {
  const warns: string[] = [];
  const notSays: string[] = [];
  for (const [key, ref] of Object.entries(refs) as Array<[keyof typeof KINDS, Ref]>) {
    const { kind, field } = KINDS[key];
    const missing = doesNotExist(kind, ref.name, ns);
    const doomed = beingDeleted(kind, ref.name, ns);
    if (ref.state === "missing")
      warns.push(
        `${missing} yet; the Subscription waits (ResolvedRefs=False) until it is created, or correct ${field}`,
      );
    else notSays.push(missing);
    if (ref.state === "doomed")
      warns.push(
        `${doomed}; the Subscription waits (ResolvedRefs=False) until it is created again, or refer to another ${kind} in ${field}`,
      );
    else notSays.push(doomed);
  }
  const open = `Api ${refs.api?.name} is open (auth type none)`;
  if (api?.open) warns.push(`${open}: anyone may call it without a subscription`);
  else notSays.push(open);
  const plan = refs.plan;
  if (api && !api.open && plan?.state === "live" && !api.plans.includes(plan.name))
    warns.push(`${notOffered(api, plan.name)}; the Subscription waits (ResolvedRefs=False)`);
  else notSays.push("does not offer plan");
  return { warns, notSays };
}

/**
 * What the Subscription webhook must refuse about creating a Subscription with these references: an Api
 * past its sunset and a second live Subscription of the client to the Api (what can never become valid).
 * Unresolved references are only warned about (unresolvedWarnings), so the refusal must not mention them.
 */
export function subscriptionRefusals(
  ns: string,
  client: Ref,
  api: Ref,
  plan: Ref,
): { refusals: Refusal[]; notSays: string[]; warns: string[] } {
  const target = api.state === "live" ? worldApi(api.name) : undefined;
  const { warns, notSays } = unresolvedWarnings(ns, { client, api, plan }, target);
  const refusals: Refusal[] = [];
  const d = target?.deprecation;
  if (d && Date.parse(d.sunset) <= Date.now())
    refusals.push({
      rule: "Subscription: Api is past its sunset",
      says: `Api ${api.name} was switched off at ${d.sunset}${d.message ? ` (${d.message})` : ""}; it takes no new subscriptions`,
    });
  else {
    notSays.push("was switched off");
    if (d)
      warns.push(`Api ${api.name} is deprecated since ${d.since} and will be switched off at ${d.sunset}`);
  }
  const twin = client.state === "live" ? liveSubscription(client.name, api.name) : undefined;
  const twinSays = `ApiClient ${client.name} already subscribes to Api ${api.name}`;
  if (twin)
    refusals.push({
      rule: "Subscription: second Subscription of a client to an Api",
      says: `${twinSays} with Subscription ${twin.name} (plan ${twin.plan}); change that Subscription's planRef instead`,
    });
  else notSays.push(twinSays);
  return { refusals, notSays: [...notSays, ...warns.map((w) => w.split(";")[0] ?? w)], warns };
}

const anyRefs = () =>
  fc.record({
    client: refTo(CLIENTS, DOOMED.client),
    api: refTo(
      APIS.map((a) => a.name),
      DOOMED.api,
    ),
    plan: refTo(PLANS, DOOMED.plan),
  });

/** Subscriptions to switched-off Apis and twins, mixed with any bad references (which only warn). */
export function invalidSubscriptions(ns: string, fresh: Fresh): fc.Arbitrary<InvalidCase> {
  // A client and an Api of a live Subscription, so that the twin rule is tried more than by chance.
  const twins = fc.record({
    pair: fc.constantFrom(...SUBSCRIPTIONS.filter((s) => !s.rejected)),
    plan: refTo(PLANS, DOOMED.plan),
  });
  return fc
    .oneof(
      { weight: 2, arbitrary: anyRefs() },
      {
        weight: 1,
        arbitrary: twins.map(({ pair, plan }) => ({
          client: { name: pair.client, state: "live" } as Ref,
          api: { name: pair.api, state: "live" } as Ref,
          plan,
        })),
      },
    )
    .map(({ client, api, plan }) => ({ client, api, plan, ...subscriptionRefusals(ns, client, api, plan) }))
    .filter((c) => c.refusals.length > 0)
    .map(({ client, api, plan, refusals, notSays }) => {
      const name = fresh(REFUSED_PREFIX);
      return {
        webhook: "validate.subscriptions",
        plural: "subscriptions",
        operation: "create",
        name,
        body: subscriptionManifest(name, client.name, api.name, plan.name),
        refusals,
        notSays,
      };
    });
}

/**
 * Subscriptions whose references do not resolve yet (any mix of missing and deleted references, open Apis
 * and Plans an Api does not offer), and that break no rule: admitted with exactly the promised warnings.
 */
export function unresolvedSubscriptions(ns: string, fresh: Fresh): fc.Arbitrary<ValidCase> {
  return anyRefs()
    .map(({ client, api, plan }) => ({ client, api, plan, ...subscriptionRefusals(ns, client, api, plan) }))
    .filter((c) => c.refusals.length === 0 && c.warns.length > 0)
    .map(({ client, api, plan, warns }) => {
      const name = fresh(ADMITTED_PREFIX);
      return {
        flavour: "with references that do not resolve yet",
        plural: "subscriptions",
        operation: "create",
        name,
        body: subscriptionManifest(name, client.name, api.name, plan.name),
        warns,
        notWarns: ["already subscribes", "was switched off"],
      };
    });
}

/** One request a route matches, expanded: a host (or any), a path prefix (or any), methods (or all). */
export interface RouteKey {
  api: string;
  host?: string;
  path?: string;
  methods?: string[];
}

/** The expanded route keys of Apis. */
export function routeKeys(apis: readonly WorldApi[]): RouteKey[] {
  return apis.flatMap((api) =>
    api.routes.flatMap((route) =>
      (route.hosts ?? [undefined]).flatMap((host) =>
        (route.paths ?? [undefined]).map((path) => ({
          api: api.name,
          ...(host ? { host } : {}),
          ...(path ? { path } : {}),
          ...(route.methods ? { methods: route.methods } : {}),
        })),
      ),
    ),
  );
}

/** Paths and hosts no world Api uses. */
const token = fc.stringMatching(/^[a-z0-9]{1,10}$/);
const noisePaths = fc.uniqueArray(
  token.map((t) => `/zz-${t}`),
  { maxLength: 3 },
);
const noiseHosts = fc.uniqueArray(
  fc.tuple(fc.boolean(), token).map(([wild, t]) => `${wild ? "*." : ""}zz-${t}.example.net`),
  { maxLength: 3 },
);
const noiseRoute: fc.Arbitrary<WorldRoute> = fc.oneof(
  noisePaths.filter((p) => p.length > 0).map((paths) => ({ paths })),
  noiseHosts.filter((h) => h.length > 0).map((hosts) => ({ hosts })),
);

const shuffled = <T>(items: T[]): fc.Arbitrary<T[]> =>
  fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length });

/** A route that clashes with `key` (and nothing else), and the detail the webhook gives for the clash. */
function clashingRoute(key: RouteKey): fc.Arbitrary<{ route: WorldRoute; detail: string }> {
  const others = METHODS.filter((m) => !key.methods?.includes(m));
  const methods: fc.Arbitrary<{ methods?: string[]; common?: string[] }> = key.methods
    ? fc.oneof(
        fc.constant({ common: key.methods }),
        fc
          .tuple(fc.subarray(key.methods, { minLength: 1 }), fc.subarray(others))
          .map(([shared, extra]) => ({ methods: [...shared, ...extra], common: shared })),
      )
    : fc
        .option(fc.subarray([...METHODS], { minLength: 1 }), { nil: undefined })
        .map((m) => (m ? { methods: m, common: m } : {}));
  return fc
    .record({
      methods,
      paths: noisePaths,
      hosts: noiseHosts,
      stripPath: fc.option(fc.boolean(), { nil: undefined }),
    })
    .chain(({ methods: m, paths, hosts, stripPath }) =>
      fc
        .tuple(
          key.path ? shuffled([key.path, ...paths]) : fc.constant(undefined),
          key.host ? shuffled([key.host, ...hosts]) : fc.constant(undefined),
        )
        .map(([p, h]) => ({
          route: {
            ...(p ? { paths: p } : {}),
            ...(h ? { hosts: h } : {}),
            ...(m.methods ? { methods: m.methods } : {}),
            ...(stripPath === undefined ? {} : { stripPath }),
          },
          detail: `${key.host ? `host ${key.host}` : "any host"}, ${key.path ? `path ${key.path}` : "any path"}, ${
            m.common ? [...m.common].sort().join(", ") : "all methods"
          }`,
        })),
    );
}

/** Routes with one clash with `keys` at a random index among routes that clash with nothing. */
function routesWithOneClash(keys: RouteKey[]) {
  return fc
    .record({
      key: fc.constantFrom(...keys),
      before: fc.array(noiseRoute, { maxLength: 3 }),
      after: fc.array(noiseRoute, { maxLength: 2 }),
    })
    .chain(({ key, before, after }) =>
      clashingRoute(key).map(({ route, detail }) => ({
        routes: [...before, route, ...after],
        refusal: {
          rule: "",
          says: `spec.routes[${before.length}] clashes with a route of Api ${key.api} (${detail}): the gateway could not tell them apart`,
        },
      })),
    );
}

const offeredPlans = fc.subarray([...PLANS], { minLength: 1 });

/** New Apis one of whose routes another Api already has (same host, path and a common method). */
export function clashingApis(fresh: Fresh): fc.Arbitrary<InvalidCase> {
  return fc
    .record({ clash: routesWithOneClash(routeKeys(APIS)), plans: offeredPlans })
    .map(({ clash, plans }) => {
      const name = fresh(REFUSED_PREFIX);
      return {
        webhook: "validate.apis",
        plural: "apis",
        operation: "create",
        name,
        body: {
          apiVersion: "wicked.dev/v1alpha1",
          kind: "Api",
          metadata: { name },
          spec: { displayName: name, upstream: { url: "http://x.shop.svc" }, routes: clash.routes, plans },
        },
        refusals: [{ ...clash.refusal, rule: "Api: a route clashes with another Api's (create)" }],
        notSays: ["is used by", "would make the Api open"],
      };
    });
}

/** Changing the routes of Api `target` so that one clashes with another Api's. */
export function clashingRouteChanges(target: string): fc.Arbitrary<InvalidCase> {
  const keys = routeKeys(APIS.filter((a) => a.name !== target));
  return routesWithOneClash(keys).map((clash) => ({
    webhook: "validate.apis",
    plural: "apis",
    operation: "update",
    name: target,
    body: { spec: { routes: clash.routes } },
    refusals: [{ ...clash.refusal, rule: "Api update: a route clashes with another Api's" }],
    notSays: ["is used by", "would make the Api open"],
  }));
}

const liveUsers = SUBSCRIPTIONS.filter((s) => !s.rejected);

const withdrawn = (plan: string, subs: string[]): Refusal => ({
  rule: "Api update: withdraws a Plan that Subscriptions use",
  says: `plan ${plan} is used by ${subs.length} subscription(s) of this Api (${subs.join(", ")}); move them to another plan or delete them before removing ${plan} from spec.plans`,
});

/** Taking a Plan off an Api while a live Subscription uses it (other plans may come and go). */
export function withdrawals(): fc.Arbitrary<InvalidCase> {
  return fc.constantFrom(...liveUsers).chain((sub) =>
    fc
      .record({
        plans: fc.uniqueArray(fc.oneof(fc.constantFrom(...PLANS, DOOMED.plan), missingName), {
          minLength: 1,
          maxLength: 5,
        }),
        displayName: fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: undefined }),
      })
      .filter(({ plans }) => !plans.includes(sub.plan))
      .map(({ plans, displayName }) => ({
        webhook: "validate.apis",
        plural: "apis",
        operation: "update" as const,
        name: sub.api,
        body: { spec: { plans, ...(displayName ? { displayName } : {}) } },
        refusals: [withdrawn(sub.plan, [sub.name])],
        notSays: ["clashes with a route", "would make the Api open"],
      })),
  );
}

/** Making an Api that has live Subscriptions open (auth type none, no plans). */
export function openings(): fc.Arbitrary<InvalidCase> {
  return fc
    .record({
      sub: fc.constantFrom(...liveUsers),
      displayName: fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: undefined }),
    })
    .map(({ sub, displayName }) => ({
      webhook: "validate.apis",
      plural: "apis",
      operation: "update",
      name: sub.api,
      body: { spec: { auth: { type: "none" }, plans: null, ...(displayName ? { displayName } : {}) } },
      refusals: [
        {
          rule: "Api update: opens an Api that has Subscriptions",
          says: `auth type none would make the Api open while 1 subscription(s) use it (${sub.name}); delete them first`,
        },
        withdrawn(sub.plan, [sub.name]),
      ],
      notSays: ["clashes with a route"],
    }));
}

/** A second ApiPortal in the namespace. */
export function secondPortals(ns: string, fresh: Fresh): fc.Arbitrary<InvalidCase> {
  return fc.string({ minLength: 1, maxLength: 60 }).map((displayName) => {
    const name = fresh(REFUSED_PREFIX);
    return {
      webhook: "validate.apiportals",
      plural: "apiportals",
      operation: "create",
      name,
      body: portalManifest(name, displayName),
      refusals: [
        {
          rule: "ApiPortal: a second portal in a namespace",
          says: `ApiPortal ${PORTAL} already serves namespace ${ns}; there is one portal per namespace`,
        },
      ],
      notSays: [],
    };
  });
}

/** The Apis a fresh client may subscribe to, and the Plans each offers that exist. */
const SUBSCRIBABLE = APIS.filter(
  (a) => !a.open && !(a.deprecation && Date.parse(a.deprecation.sunset) <= Date.now()),
).map((a) => ({ api: a, plans: a.plans.filter((p) => (PLANS as readonly string[]).includes(p)) }));

/**
 * Subscriptions of `client` (a new ApiClient the suite creates first) to an Api and a Plan it offers: they
 * must be admitted, with a warning exactly when the Api is deprecated.
 */
export function validSubscriptions(
  fresh: Fresh,
): fc.Arbitrary<ValidCase & { client: string; api: string; plan: string }> {
  return fc
    .constantFrom(...SUBSCRIBABLE)
    .chain(({ api, plans }) => fc.constantFrom(...plans).map((plan) => ({ api, plan })))
    .map(({ api, plan }) => {
      const name = fresh(ADMITTED_PREFIX);
      const client = `${name}-client`;
      const d = api.deprecation;
      const deprecated = `Api ${api.name} is deprecated`;
      return {
        flavour: d ? "to a deprecated Api" : "to an Api and a Plan it offers",
        plural: "subscriptions",
        operation: "create",
        name,
        client,
        api: api.name,
        plan,
        body: subscriptionManifest(name, client, api.name, plan),
        warns: d ? [`${deprecated} since ${d.since} and will be switched off at ${d.sunset}`] : [],
        notWarns: d ? [] : [deprecated, "There is no ApiPortal"],
      };
    });
}

/** A route that is near `key` but does not clash with it, and how. */
function nearMiss(key: RouteKey): fc.Arbitrary<{ route: WorldRoute; how: string }> {
  const freshHost = token.map((t) => `zz-${t}.example.org`);
  const anotherHost = freshHost.map((host) => ({
    route: {
      hosts: [host],
      ...(key.path ? { paths: [key.path] } : {}),
      ...(key.methods ? { methods: key.methods } : {}),
    },
    how: "same path, another host",
  }));
  const longerPath = token.map((t) => ({
    route: {
      paths: [`${key.path ?? ""}/zz-${t}`],
      ...(key.host ? { hosts: [key.host] } : {}),
      ...(key.methods ? { methods: key.methods } : {}),
    },
    how: key.path ? "same host, a longer path" : "same host, a path where the other has none",
  }));
  const others = METHODS.filter((m) => !key.methods?.includes(m));
  const otherMethods = fc.subarray(others, { minLength: 1 }).map((methods) => ({
    route: {
      ...(key.path ? { paths: [key.path] } : {}),
      ...(key.host ? { hosts: [key.host] } : {}),
      methods,
    },
    how: "same host and path, other methods",
  }));
  return key.methods ? fc.oneof(anotherHost, longerPath, otherMethods) : fc.oneof(anotherHost, longerPath);
}

/**
 * New Apis whose routes come near the world's without clashing, or repeat a route of the Api being
 * deleted; with Plans that exist, Plans that do not exist yet (a warning), or no plans and auth type none (a
 * warning). The suite deletes each one after checking it, so they never clash with each other.
 */
export function validApis(ns: string, fresh: Fresh): fc.Arbitrary<ValidCase> {
  const near = fc
    .constantFrom(...routeKeys(APIS))
    .chain((key) => nearMiss(key))
    .map(({ route, how }) => ({ routes: [route], how }));
  const reused = fc.constant({ routes: DOOMED_API.routes, how: "the routes of an Api being deleted" });
  const access = fc.oneof(
    offeredPlans.map((plans) => ({ plans, missing: [] as string[] })),
    fc
      .tuple(offeredPlans, fc.uniqueArray(missingName, { minLength: 1, maxLength: 3 }))
      .map(([plans, missing]) => ({ plans: [...plans, ...missing], missing })),
    fc.constant({ open: true as const, missing: [] as string[] }),
  );
  return fc
    .record({ routes: fc.oneof({ weight: 4, arbitrary: near }, { weight: 1, arbitrary: reused }), access })
    .map(({ routes, access }) => {
      const name = fresh(ADMITTED_PREFIX);
      const open = "open" in access;
      const missingWarning = `plan(s) ${access.missing.join(", ")} do not exist in namespace ${ns} yet`;
      const openWarning = `Api ${name} has auth type none`;
      return {
        flavour: `${routes.how}${open ? ", open" : access.missing.length > 0 ? ", with Plans not created yet" : ""}`,
        plural: "apis",
        operation: "create",
        name,
        body: {
          apiVersion: "wicked.dev/v1alpha1",
          kind: "Api",
          metadata: { name },
          spec: {
            displayName: name,
            upstream: { url: "http://x.shop.svc" },
            routes: routes.routes,
            ...("plans" in access ? { plans: access.plans } : { auth: { type: "none" } }),
          },
        },
        warns: [...(access.missing.length > 0 ? [missingWarning] : []), ...(open ? [openWarning] : [])],
        notWarns: [
          ...(access.missing.length > 0 ? [] : ["do not exist in namespace"]),
          ...(open ? [] : [openWarning]),
          "There is no ApiPortal",
        ],
      };
    });
}

/** How a generated Plan is made: with or without rate limits, offered by an Api or not. */
export const planFlavours = fc.record({ limits: fc.boolean(), offered: fc.boolean() });

/**
 * A new Plan named `name`, with or without rate limits, which an Api already offers or not: admitted, with
 * a warning for each of the two that is missing and no other.
 */
export function validPlan(name: string, limits: boolean, offered: boolean): ValidCase {
  const noLimits = `Plan ${name} has no rate limits`;
  const notOffered = `No Api offers plan ${name} yet`;
  return {
    flavour: `${limits ? "with" : "without"} rate limits, ${offered ? "offered" : "offered by no Api"}`,
    plural: "plans",
    operation: "create",
    name,
    body: {
      apiVersion: "wicked.dev/v1alpha1",
      kind: "Plan",
      metadata: { name },
      spec: { displayName: name, ...(limits ? { rateLimits: { hour: 1000 } } : {}) },
    },
    warns: [...(limits ? [] : [noLimits]), ...(offered ? [] : [notOffered])],
    notWarns: [...(limits ? [noLimits] : []), ...(offered ? [notOffered] : [])],
  };
}
