/**
 * A portal's exposure as pure functions of the ApiPortal: which of its URLs route to which of its Services,
 * the Ingress or Gateway API HTTPRoutes that do it, and what the routing controller says about them. The
 * components serve under their URLs' paths themselves (the auth server under its issuer's path, the portal
 * API under its URL's path), so the routes are plain path prefixes that every ingress controller and Gateway
 * implementation supports, without rewrites.
 */
import { isIP } from "node:net";
import type { V1Ingress } from "@kubernetes/client-node";
import type {
  ApiPortal,
  ExposedRoute,
  ExposureStatus,
  GatewayParentReference,
} from "../../api/v1alpha1/index.ts";
import type { KubeObject } from "../../controller-runtime/types.ts";
import { childMetadata, childName, hashOf, portalUrls } from "./components.ts";
import { KONG_PROXY_PORT, managedKongNames } from "./managed-kong.ts";
import { type Observation, Reason } from "./status.ts";

/** Annotation carrying a hash of an exposure object's intent, so that removing a field also re-applies it. */
export const DESIRED_HASH_ANNOTATION = "wicked.dev/desired-hash";
/** Label value of app.kubernetes.io/component on the routing objects. */
export const EXPOSURE_COMPONENT = "exposure";
/** The Gateway API group. */
export const GATEWAY_API_GROUP = "gateway.networking.k8s.io";

/** One of the portal's URLs, routed to one of its Services. */
export interface Route extends ExposedRoute {
  /** Host name of the URL (no port). */
  host: string;
  /** Path prefix of the URL, "/" for none. */
  path: string;
  /** Port of the Service. */
  port: number;
  /** Whether the URL is https (its host needs a certificate). */
  tls: boolean;
}

/** A Gateway API HTTPRoute as the operator renders it. */
export interface HttpRoute extends KubeObject {
  apiVersion: "gateway.networking.k8s.io/v1";
  kind: "HTTPRoute";
  spec: {
    parentRefs: Array<GatewayParentReference & { group: string; kind: string }>;
    hostnames: string[];
    rules: Array<{
      matches: Array<{ path: { type: "PathPrefix"; value: string } }>;
      backendRefs: Array<{ name: string; port: number }>;
    }>;
  };
  status?: { parents?: RouteParentStatus[] };
}

/** A parent's verdict on an HTTPRoute, as its Gateway controller writes it. */
export interface RouteParentStatus {
  parentRef: { name: string; namespace?: string; sectionName?: string; port?: number };
  controllerName?: string;
  conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
}

/** Everything the spec's exposure renders to. */
export interface ExposurePlan {
  kind: ExposureStatus["kind"];
  /** The URLs that are routed, in the order portal, api, auth, gateway. */
  routes: Route[];
  /** URLs that cannot be routed, each with the reason, for the Exposed condition. */
  unroutable: string[];
  /** The Ingress (kind Ingress). */
  ingress?: V1Ingress & KubeObject;
  /** One HTTPRoute per host (kind HTTPRoute). */
  httpRoutes?: HttpRoute[];
}

const URL_NAMES = ["portal", "api", "auth", "gateway"] as const;

/** The Service and port each URL reaches; the gateway only when wicked runs Kong. */
function backends(portal: ApiPortal): Partial<Record<Route["name"], { service: string; port: number }>> {
  const managed = (portal.spec.gateway.mode ?? "None") === "Managed";
  return {
    portal: { service: childName(portal, "portal-ui"), port: 3000 },
    api: { service: childName(portal, "portal-api"), port: 3001 },
    auth: { service: childName(portal, "auth-server"), port: 3010 },
    ...(managed
      ? { gateway: { service: managedKongNames(portal).proxyService, port: KONG_PROXY_PORT } }
      : {}),
  };
}

/** The host of a URL, without brackets around an IPv6 address. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
}

/**
 * The routes of a portal's URLs: portal → portal UI, api → portal API, auth → auth server and, with a managed
 * gateway, gateway → Kong's proxy. A URL whose host is an IP address, or whose host and path another URL
 * already routes, is left out and reported.
 */
export function exposedRoutes(portal: ApiPortal): { routes: Route[]; unroutable: string[] } {
  const urls = portalUrls(portal);
  const targets = backends(portal);
  const routes: Route[] = [];
  const unroutable: string[] = [];
  for (const name of URL_NAMES) {
    const target = targets[name];
    if (!target) continue;
    const url = new URL(urls[name]);
    const host = hostOf(url);
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (isIP(host) !== 0) {
      unroutable.push(
        `urls.${name} (${urls[name]}) has an IP address for a host; Ingress and HTTPRoute route host names`,
      );
      continue;
    }
    const twin = routes.find((r) => r.host === host && r.path === path);
    if (twin) {
      unroutable.push(`urls.${name} (${urls[name]}) has the same host and path as urls.${twin.name}`);
      continue;
    }
    routes.push({
      name,
      url: urls[name],
      host,
      path,
      tls: url.protocol === "https:",
      ...target,
      object: "",
    });
  }
  return { routes, unroutable };
}

/** Longest path first: the order in which prefixes are tried (both APIs define it so; this keeps output stable). */
const byPath = (a: Route, b: Route) => b.path.length - a.path.length || a.path.localeCompare(b.path);

/** Adds the hash of the intent to an object's annotations. */
function withDesiredHash<T extends KubeObject & { spec?: unknown }>(obj: T): T {
  const annotations = { ...(obj.metadata.annotations ?? {}) };
  annotations[DESIRED_HASH_ANNOTATION] = hashOf({ spec: obj.spec, annotations: obj.metadata.annotations });
  return { ...obj, metadata: { ...obj.metadata, annotations } };
}

/** The portal's Ingress: one rule per host, a Prefix path per URL, TLS for the https hosts. */
export function renderIngress(portal: ApiPortal, routes: Route[]): V1Ingress & KubeObject {
  const spec = portal.spec.exposure?.ingress ?? {};
  const name = portal.metadata.name ?? "";
  const hosts = [...new Set(routes.map((r) => r.host))].sort();
  const tlsHosts = [...new Set(routes.filter((r) => r.tls).map((r) => r.host))].sort();
  const issuer = spec.tls?.issuerRef;
  const annotations: Record<string, string> = {
    ...(spec.annotations ?? {}),
    ...(issuer
      ? {
          [(issuer.kind ?? "Issuer") === "ClusterIssuer"
            ? "cert-manager.io/cluster-issuer"
            : "cert-manager.io/issuer"]: issuer.name,
        }
      : {}),
  };
  const ingress: V1Ingress & KubeObject = {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      ...childMetadata(portal, name, EXPOSURE_COMPONENT),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    spec: {
      ...(spec.className ? { ingressClassName: spec.className } : {}),
      ...(spec.tls && tlsHosts.length > 0
        ? { tls: [{ hosts: tlsHosts, secretName: spec.tls.secretName }] }
        : {}),
      rules: hosts.map((host) => ({
        host,
        http: {
          paths: routes
            .filter((r) => r.host === host)
            .sort(byPath)
            .map((r) => ({
              path: r.path,
              pathType: "Prefix",
              backend: { service: { name: r.service, port: { number: r.port } } },
            })),
        },
      })),
    },
  };
  return withDesiredHash(ingress);
}

/**
 * The portal's HTTPRoutes, one per host (an HTTPRoute's hostnames apply to all its rules), named after the
 * first of the portal's URLs on that host: `<portal>-portal`, `<portal>-gateway`, ….
 */
export function renderHttpRoutes(portal: ApiPortal, routes: Route[]): HttpRoute[] {
  const parentRefs = (portal.spec.exposure?.httpRoute?.parentRefs ?? []).map((p) => ({
    group: GATEWAY_API_GROUP,
    kind: "Gateway",
    name: p.name,
    ...(p.namespace ? { namespace: p.namespace } : {}),
    ...(p.sectionName ? { sectionName: p.sectionName } : {}),
    ...(p.port ? { port: p.port } : {}),
  }));
  const hosts = [...new Set(routes.map((r) => r.host))];
  return hosts.map((host) => {
    const onHost = routes.filter((r) => r.host === host);
    const name = childName(portal, onHost[0]?.name ?? "portal");
    return withDesiredHash<HttpRoute>({
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "HTTPRoute",
      metadata: childMetadata(portal, name, EXPOSURE_COMPONENT),
      spec: {
        parentRefs,
        hostnames: [host],
        rules: [...onHost].sort(byPath).map((r) => ({
          matches: [{ path: { type: "PathPrefix", value: r.path } }],
          backendRefs: [{ name: r.service, port: r.port }],
        })),
      },
    });
  });
}

/** What spec.exposure renders to; undefined when the portal is not exposed by the operator. */
export function planExposure(portal: ApiPortal): ExposurePlan | undefined {
  const exposure = portal.spec.exposure;
  if (!exposure) return undefined;
  const { routes, unroutable } = exposedRoutes(portal);
  if (exposure.ingress) {
    // An Ingress needs a rule (or a default backend): with no routable URL there is none to render.
    if (routes.length === 0) return { kind: "Ingress", routes, unroutable };
    const ingress = renderIngress(portal, routes);
    return {
      kind: "Ingress",
      routes: routes.map((r) => ({ ...r, object: ingress.metadata.name ?? "" })),
      unroutable,
      ingress,
    };
  }
  const httpRoutes = renderHttpRoutes(portal, routes);
  const objectOf = (r: Route) =>
    httpRoutes.find((h) => h.spec.hostnames.includes(r.host))?.metadata.name ?? "";
  return {
    kind: "HTTPRoute",
    routes: routes.map((r) => ({ ...r, object: objectOf(r) })),
    unroutable,
    httpRoutes,
  };
}

/** What the controller found out about the routing objects after applying them. */
export type ExposureOutcome =
  | { applied: true; ingress?: V1Ingress; httpRoutes?: HttpRoute[] }
  | { applied: false; reason: "GatewayApiNotInstalled" };

/** The addresses an ingress controller published in the Ingress' status. */
export function ingressAddresses(ingress: V1Ingress | undefined): string[] {
  return (ingress?.status?.loadBalancer?.ingress ?? [])
    .map((i) => i.ip ?? i.hostname ?? "")
    .filter((a) => a !== "");
}

/** The status a parent gave an HTTPRoute for one of its parentRefs (defaults as the Gateway API defines them). */
export function parentStatus(route: HttpRoute, ref: GatewayParentReference): RouteParentStatus | undefined {
  const ns = route.metadata.namespace ?? "";
  return route.status?.parents?.find(
    (p) =>
      p.parentRef.name === ref.name &&
      (p.parentRef.namespace ?? ns) === (ref.namespace ?? ns) &&
      (p.parentRef.sectionName ?? "") === (ref.sectionName ?? "") &&
      (p.parentRef.port ?? 0) === (ref.port ?? 0),
  );
}

const refText = (ref: GatewayParentReference) =>
  `Gateway ${ref.namespace ? `${ref.namespace}/` : ""}${ref.name}${ref.sectionName ? ` (listener ${ref.sectionName})` : ""}`;

/**
 * The Exposed observation: whether the routing controller admitted what the operator applied. False blocks
 * Ready (a refusal, a kind the cluster does not serve, a URL that cannot be routed); Unknown (no controller
 * has reported yet, which some never do for Ingresses) does not.
 */
export function observeExposure(
  portal: ApiPortal,
  plan: ExposurePlan | undefined,
  outcome: ExposureOutcome | undefined,
): Observation {
  if (!plan) {
    return {
      status: "False",
      reason: Reason.ExposureNotConfigured,
      message:
        "spec.exposure is not set: the operator routes none of the portal's URLs; route them to the portal's Services yourself, or set spec.exposure",
    };
  }
  if (outcome && !outcome.applied) {
    return {
      status: "False",
      reason: Reason.GatewayApiNotInstalled,
      message:
        "The cluster does not serve gateway.networking.k8s.io/v1 HTTPRoute: install the Gateway API CRDs (standard channel), or expose the portal with spec.exposure.ingress",
    };
  }
  if (plan.unroutable.length > 0) {
    return {
      status: "False",
      reason: Reason.UnroutableUrls,
      message: `Not routed: ${plan.unroutable.join("; ")}`,
    };
  }
  const urls = plan.routes.map((r) => r.url).join(", ");
  if (plan.kind === "Ingress") {
    const name = plan.ingress?.metadata.name;
    const addresses = ingressAddresses(outcome?.applied ? outcome.ingress : undefined);
    if (addresses.length > 0)
      return {
        status: "True",
        reason: Reason.Admitted,
        message: `Ingress ${name} routes ${urls} through ${addresses.join(", ")}`,
      };
    const className = portal.spec.exposure?.ingress?.className;
    return {
      status: "Unknown",
      reason: Reason.WaitingForController,
      message: `Ingress ${name} routes ${urls}; no ingress controller${className ? ` of class ${className}` : ""} has published an address for it yet`,
    };
  }
  const refs = portal.spec.exposure?.httpRoute?.parentRefs ?? [];
  const applied = (outcome?.applied ? outcome.httpRoutes : undefined) ?? [];
  const refused: string[] = [];
  const waiting: string[] = [];
  for (const desired of plan.httpRoutes ?? []) {
    const route = applied.find((r) => r.metadata.name === desired.metadata.name);
    for (const ref of refs) {
      const accepted = (route && parentStatus(route, ref))?.conditions?.find((c) => c.type === "Accepted");
      if (accepted?.status === "True") continue;
      const what = `HTTPRoute ${desired.metadata.name} at ${refText(ref)}`;
      if (accepted?.status === "False")
        refused.push(
          `${what}: ${accepted.reason ?? "NotAccepted"}${accepted.message ? ` (${accepted.message})` : ""}`,
        );
      else waiting.push(what);
    }
  }
  if (refused.length > 0)
    return {
      status: "False",
      reason: Reason.RouteNotAccepted,
      message: `Not accepted: ${refused.join("; ")}`,
    };
  if (waiting.length > 0)
    return {
      status: "Unknown",
      reason: Reason.WaitingForController,
      message: `Routes ${urls}; waiting for the Gateway controller to accept ${waiting.join(", ")}`,
    };
  return {
    status: "True",
    reason: Reason.Admitted,
    message: `HTTPRoutes ${(plan.httpRoutes ?? []).map((r) => r.metadata.name).join(", ")} route ${urls}, accepted by ${refs.map(refText).join(", ")}`,
  };
}

/** status.exposure: the URLs the applied objects route; undefined when the operator exposes nothing. */
export function exposureStatus(
  plan: ExposurePlan | undefined,
  outcome: ExposureOutcome | undefined,
): ExposureStatus | undefined {
  if (!plan) return undefined;
  if (!outcome?.applied) return { kind: plan.kind };
  const addresses = plan.kind === "Ingress" ? ingressAddresses(outcome.ingress) : [];
  return {
    kind: plan.kind,
    routes: plan.routes.map(({ name, url, service, object }) => ({ name, url, service, object })),
    ...(addresses.length > 0 ? { addresses } : {}),
  };
}
