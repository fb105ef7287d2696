/**
 * Admission of Apis: routes are unique across the Apis of a namespace (one portal, one gateway), a plan
 * still used by subscriptions is not withdrawn, and an Api with subscribers is not opened up. Plans that do
 * not exist yet are a warning, not a denial: `kubectl apply -f dir/` and GitOps tools create objects in
 * any order, and the operator reports the missing Plans as ResolvedRefs=False until they exist.
 */
import type { Api, ApiPortal, Plan, RouteSpec, Subscription } from "../api/v1alpha1/index.ts";
import { deepEqual } from "../operator/desired.ts";
import { type Operation, specUnchanged, type Verdict } from "./admission.ts";
import { alive, type NamespaceView } from "./view.ts";

/** What exists around an Api, read before the pure rules run. */
export interface ApiFacts {
  apis: Api[];
  plans: Plan[];
  portals: ApiPortal[];
  /** The Api's Subscriptions. */
  subscriptions: Subscription[];
}

/** Reads the facts the rules need. */
export async function apiFacts(view: NamespaceView, api: Api): Promise<ApiFacts> {
  const [apis, plans, portals, subscriptions] = await Promise.all([
    view.apis(),
    view.plans(),
    view.cachedPortals(),
    view.subscriptionsTo(api.metadata.name ?? ""),
  ]);
  return { apis, plans, portals, subscriptions };
}

/** One request a route matches: a host (undefined: any host), a path prefix (undefined: any) and methods. */
interface RouteMatch {
  host: string | undefined;
  path: string | undefined;
  methods: Set<string> | undefined;
}

function matches(route: RouteSpec): RouteMatch[] {
  const hosts = route.hosts?.length ? route.hosts : [undefined];
  const paths = route.paths?.length ? route.paths : [undefined];
  const methods = route.methods?.length ? new Set<string>(route.methods) : undefined;
  return hosts.flatMap((host) => paths.map((path) => ({ host, path, methods })));
}

/**
 * Whether the gateway could not tell two routes apart: the same host (or neither names one), the same path
 * prefix (or neither names one) and at least one method in common (no methods means all). Different
 * prefixes such as /orders and /orders/v2 do not clash: Kong picks the longest. Pure.
 */
export function routesClash(a: RouteSpec, b: RouteSpec): string | undefined {
  for (const x of matches(a)) {
    for (const y of matches(b)) {
      if (x.host !== y.host || x.path !== y.path) continue;
      const common = !x.methods
        ? y.methods
        : !y.methods
          ? x.methods
          : new Set([...x.methods].filter((m) => y.methods?.has(m)));
      if (common && common.size === 0) continue;
      const methods = common ? [...common].sort().join(", ") : "all methods";
      return `${x.host ? `host ${x.host}` : "any host"}, ${x.path ? `path ${x.path}` : "any path"}, ${methods}`;
    }
  }
  return undefined;
}

const activeUsers = (subs: Subscription[], api: string, where: (s: Subscription) => boolean) =>
  subs.filter(
    (s) => alive(s) && s.spec.apiRef.name === api && s.spec.approval?.decision !== "Rejected" && where(s),
  );

const names = (subs: Subscription[]) =>
  `${subs
    .slice(0, 5)
    .map((s) => s.metadata.name)
    .join(", ")}${subs.length > 5 ? ", …" : ""}`;

/**
 * The cross-object rules of an Api. Route clashes are checked when the routes are new or changed (an old
 * clash from before the webhook existed does not block unrelated edits); withdrawing a plan or opening the
 * Api is refused while subscriptions depend on it. Pure.
 */
export function validateApi(operation: Operation, api: Api, old: Api | undefined, facts: ApiFacts): Verdict {
  const denials: string[] = [];
  const warnings: string[] = [];
  if (api.metadata.deletionTimestamp || specUnchanged(operation, api, old)) return { denials, warnings };
  const name = api.metadata.name ?? "";
  const ns = api.metadata.namespace ?? "";

  if (operation === "CREATE" || !old || !deepEqual(api.spec.routes, old.spec.routes)) {
    for (const other of facts.apis) {
      if (other.metadata.name === name || !alive(other)) continue;
      for (const [i, route] of api.spec.routes.entries()) {
        for (const theirs of other.spec.routes) {
          const clash = routesClash(route, theirs);
          if (clash)
            denials.push(
              `spec.routes[${i}] clashes with a route of Api ${other.metadata.name} (${clash}): the gateway could not tell them apart; use another path, host or method`,
            );
        }
      }
    }
  }

  if (operation === "UPDATE" && old) {
    const withdrawn = (old.spec.plans ?? []).filter((p) => !(api.spec.plans ?? []).includes(p));
    for (const plan of withdrawn) {
      const users = activeUsers(facts.subscriptions, name, (s) => s.spec.planRef.name === plan);
      if (users.length > 0)
        denials.push(
          `plan ${plan} is used by ${users.length} subscription(s) of this Api (${names(users)}); move them to another plan or delete them before removing ${plan} from spec.plans`,
        );
    }
    const opened =
      (api.spec.auth?.type ?? "key-auth") === "none" && (old.spec.auth?.type ?? "key-auth") !== "none";
    const users = activeUsers(facts.subscriptions, name, () => true);
    if (opened && users.length > 0)
      denials.push(
        `auth type none would make the Api open while ${users.length} subscription(s) use it (${names(users)}); delete them first, or keep key-auth or oauth2`,
      );
  }

  const plans = new Set(facts.plans.filter(alive).map((p) => p.metadata.name));
  const unknown = (api.spec.plans ?? []).filter((p) => !plans.has(p));
  if (unknown.length > 0)
    warnings.push(
      `plan(s) ${unknown.join(", ")} do not exist in namespace ${ns} yet; the Api is not published (ResolvedRefs=False) until they do`,
    );
  if ((api.spec.auth?.type ?? "key-auth") === "none")
    warnings.push(`Api ${name} has auth type none: anyone who reaches the gateway can call it`);
  if (!facts.portals.some(alive))
    warnings.push(`There is no ApiPortal in namespace ${ns}: the Api is not published until one exists`);
  return { denials, warnings };
}
