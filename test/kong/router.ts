// Part of the Kong TEST DOUBLE (test/kong): never imported by the product.
// Route matching and upstream paths of the proxy, after Kong's traditional_compatible router (Kong 3.x):
// hosts (with wildcards), methods, headers and paths (prefixes, or regexes starting with `~`).
import type { JsonObject } from "./json.ts";

/** What the router looks at in a request. */
export interface RoutableRequest {
  readonly method: string;
  /** The Host header, lower-case, port included when sent. */
  readonly host: string;
  readonly path: string;
  readonly headers: { readonly [name: string]: readonly string[] | undefined };
}

/** The route chosen for a request, and the part of the path its `paths` matched. */
export interface RouteMatch {
  readonly route: JsonObject;
  /** The matched prefix (or regex match); undefined when the route has no paths. */
  readonly matchedPath?: string;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function hostMatches(pattern: string, host: string): boolean {
  const wanted = pattern.toLowerCase();
  const hasPort = /:\d+$/.test(wanted);
  const candidate = hasPort ? host : host.replace(/:\d+$/, "");
  if (wanted.startsWith("*."))
    return candidate.endsWith(wanted.slice(1)) && candidate.length > wanted.length - 1;
  if (wanted.endsWith(".*")) return candidate.startsWith(wanted.slice(0, -1));
  return candidate === wanted;
}

interface PathMatch {
  readonly matched: string;
  readonly regex: boolean;
}

function pathMatch(pattern: string, path: string): PathMatch | undefined {
  if (pattern.startsWith("~")) {
    const match = new RegExp(`^(?:${pattern.slice(1)})`).exec(path);
    return match ? { matched: match[0], regex: true } : undefined;
  }
  return path.startsWith(pattern) ? { matched: pattern, regex: false } : undefined;
}

interface Candidate {
  readonly route: JsonObject;
  readonly categories: number;
  readonly path?: PathMatch;
}

function evaluate(route: JsonObject, req: RoutableRequest): Candidate | undefined {
  let categories = 0;
  const hosts = strings(route.hosts);
  if (hosts.length > 0) {
    if (!hosts.some((h) => hostMatches(h, req.host))) return undefined;
    categories += 1;
  }
  const methods = strings(route.methods);
  if (methods.length > 0) {
    if (!methods.includes(req.method)) return undefined;
    categories += 1;
  }
  const headers = route.headers;
  if (headers && typeof headers === "object" && !Array.isArray(headers) && Object.keys(headers).length > 0) {
    for (const [name, allowed] of Object.entries(headers)) {
      const sent = (req.headers[name.toLowerCase()] ?? []).map((v) => v.toLowerCase());
      if (!strings(allowed).some((a) => sent.includes(a.toLowerCase()))) return undefined;
    }
    categories += 1;
  }
  const paths = strings(route.paths);
  if (paths.length === 0) return { route, categories };
  const matches = paths.flatMap((p) => pathMatch(p, req.path) ?? []);
  const best = matches.sort(
    (a, b) => Number(a.regex) - Number(b.regex) || b.matched.length - a.matched.length,
  )[0];
  return best ? { route, categories: categories + 1, path: best } : undefined;
}

function num(value: unknown): number {
  return typeof value === "number" ? value : 0;
}

/**
 * Picks the route for a request: routes matching more kinds of attributes first, then prefix paths by length
 * (longest wins), then regex paths by `regex_priority`, then the oldest route.
 */
export function matchRoute(routes: readonly JsonObject[], req: RoutableRequest): RouteMatch | undefined {
  const candidates = routes.flatMap((r) => evaluate(r, req) ?? []);
  candidates.sort(
    (a, b) =>
      b.categories - a.categories ||
      Number(a.path?.regex ?? false) - Number(b.path?.regex ?? false) ||
      (a.path?.regex ? num(b.route.regex_priority) - num(a.route.regex_priority) : 0) ||
      (b.path?.matched.length ?? 0) - (a.path?.matched.length ?? 0) ||
      num(a.route.created_at) - num(b.route.created_at),
  );
  const chosen = candidates[0];
  if (!chosen) return undefined;
  return chosen.path ? { route: chosen.route, matchedPath: chosen.path.matched } : { route: chosen.route };
}

function joinPaths(base: string, rest: string, handling: string): string {
  if (rest === "") return base;
  if (base.endsWith("/") && rest.startsWith("/")) return base + rest.slice(1);
  if (handling === "v0" && !base.endsWith("/") && !rest.startsWith("/")) return `${base}/${rest}`;
  return base + rest;
}

/** The path sent upstream: the service path joined with the request path, stripped of the match when `strip_path`. */
export function upstreamPath(service: JsonObject, match: RouteMatch, requestPath: string): string {
  const base = typeof service.path === "string" ? service.path : "/";
  const strip = match.route.strip_path === true && match.matchedPath !== undefined;
  const rest = strip ? requestPath.slice(match.matchedPath?.length ?? 0) : requestPath;
  const handling = match.route.path_handling === "v1" ? "v1" : "v0";
  return joinPaths(base, rest, handling);
}
