// Part of the Kong TEST DOUBLE (test/kong): never imported by the product.
// The proxy port: route matching, the access phase of the enforced plugins in priority order with Kong's
// precedence of scoped configurations, and forwarding to the service with node:http.
import { randomBytes } from "node:crypto";
import { request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import { KONG_VERSION, readBody, sendJson } from "./http-util.ts";
import type { Json, JsonObject } from "./json.ts";
import { DEFAULT_STATUS_MESSAGES } from "./kong-errors.ts";
import { BUNDLED_PLUGIN_PRIORITIES } from "./plugin-schemas.ts";
import type { HeaderMap, PluginExit, PluginHandler, ProxyState } from "./plugins/types.ts";
import { matchRoute, type RouteMatch, upstreamPath } from "./router.ts";
import type { KongStore } from "./store.ts";

/** What the proxy needs from the double. */
export interface ProxyDeps {
  readonly store: KongStore;
  /** The enforced plugins by name; other plugins are stored but have no effect on traffic. */
  readonly handlers: { readonly [name: string]: PluginHandler };
  /** Told about failures that are bugs of the double (answered with a 500). */
  onUnexpected(err: unknown): void;
}

/** Most specific first: route+service+consumer, route+consumer, service+consumer, route+service, consumer, route, service, global. */
const PRECEDENCE = ["rsc", "rc", "sc", "rs", "c", "r", "s", ""];

const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

function refId(value: Json | undefined): string | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) && typeof value.id === "string"
    ? value.id
    : undefined;
}

function scopeOf(plugin: JsonObject): string {
  return (
    (refId(plugin.route) ? "r" : "") +
    (refId(plugin.service) ? "s" : "") +
    (refId(plugin.consumer) ? "c" : "")
  );
}

/** The configuration of one plugin that applies to a request, most specific scope winning as in Kong. */
function resolvePlugin(
  instances: readonly JsonObject[],
  routeId: string,
  serviceId: string,
  consumerId: string | undefined,
): JsonObject | undefined {
  const applicable = instances.filter((p) => {
    const route = refId(p.route);
    const service = refId(p.service);
    const consumer = refId(p.consumer);
    return (
      (route === undefined || route === routeId) &&
      (service === undefined || service === serviceId) &&
      (consumer === undefined || consumer === consumerId)
    );
  });
  return applicable.sort((a, b) => PRECEDENCE.indexOf(scopeOf(a)) - PRECEDENCE.indexOf(scopeOf(b)))[0];
}

function kongHeaders(requestId: string, latencyName: string, startedAt: number): { [name: string]: string } {
  return { [latencyName]: String(Math.round(performance.now() - startedAt)), "X-Kong-Request-Id": requestId };
}

function exitWith(res: ServerResponse, exit: PluginExit, requestId: string, startedAt: number): void {
  sendJson(res, exit.status, exit.body, {
    ...exit.headers,
    ...kongHeaders(requestId, "X-Kong-Response-Latency", startedAt),
  });
}

function kongError(
  res: ServerResponse,
  status: number,
  message: string,
  requestId: string,
  startedAt: number,
): void {
  exitWith(res, { status, body: { message, request_id: requestId } }, requestId, startedAt);
}

function runPlugins(deps: ProxyDeps, state: ProxyState): PluginExit | undefined {
  const enabled = deps.store.list("plugins").filter((p) => p.enabled === true && typeof p.name === "string");
  const names = [...new Set(enabled.map((p) => String(p.name)))]
    .filter((name) => deps.handlers[name] !== undefined)
    .sort((a, b) => (BUNDLED_PLUGIN_PRIORITIES[b] ?? 0) - (BUNDLED_PLUGIN_PRIORITIES[a] ?? 0));
  for (const name of names) {
    const handler = deps.handlers[name];
    const consumerId = typeof state.consumer?.id === "string" ? state.consumer.id : undefined;
    const instances = enabled.filter((p) => p.name === name);
    const plugin = resolvePlugin(instances, String(state.route.id), String(state.service.id), consumerId);
    const config = plugin?.config;
    if (!handler || !plugin || typeof config !== "object" || config === null || Array.isArray(config))
      continue;
    const exit = handler.access(config, state, plugin);
    if (exit) return exit;
  }
  return undefined;
}

function upstreamHeadersFor(
  req: IncomingMessage,
  state: ProxyState,
  match: RouteMatch,
  requestPath: string,
): HeaderMap {
  const headers: HeaderMap = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (values && !HOP_BY_HOP.includes(name))
      headers[name] = values.length === 1 ? (values[0] ?? "") : values;
  }
  const clientHost = req.headers.host ?? "";
  const service = state.service;
  const port = Number(service.port);
  const defaultPort =
    (service.protocol === "https" && port === 443) || (service.protocol === "http" && port === 80);
  if (match.route.preserve_host !== true)
    headers.host = defaultPort ? String(service.host) : `${String(service.host)}:${port}`;
  const forwardedFor = req.headers["x-forwarded-for"];
  headers["x-forwarded-for"] = forwardedFor ? `${forwardedFor}, ${state.clientIp}` : state.clientIp;
  headers["x-forwarded-proto"] = "http";
  headers["x-forwarded-host"] = clientHost.replace(/:\d+$/, "");
  headers["x-forwarded-port"] = String(req.socket.localPort ?? "");
  headers["x-forwarded-path"] = requestPath;
  if (match.route.strip_path === true && match.matchedPath) headers["x-forwarded-prefix"] = match.matchedPath;
  headers["x-real-ip"] = state.clientIp;
  return headers;
}

function forward(res: ServerResponse, state: ProxyState, path: string, startedAt: number): void {
  const service = state.service;
  const https = service.protocol === "https";
  const query = state.query.toString();
  const headers = { ...state.upstreamHeaders, "content-length": String(state.body.length) };
  const options = {
    host: String(service.host),
    port: Number(service.port),
    method: state.method,
    path: query === "" ? path : `${path}?${query}`,
    headers,
    ...(https ? { rejectUnauthorized: service.tls_verify === true } : {}),
  };
  const upstreamStarted = performance.now();
  const upstream = (https ? httpsRequest : httpRequest)(options, (upstreamRes) => {
    const chunks: Buffer[] = [];
    upstreamRes.on("data", (chunk: Buffer) => chunks.push(chunk));
    upstreamRes.on("end", () => {
      const body = Buffer.concat(chunks);
      const out: { [name: string]: string | string[] } = {};
      for (const [name, value] of Object.entries(upstreamRes.headers)) {
        if (value !== undefined && !HOP_BY_HOP.includes(name)) out[name] = value;
      }
      res.writeHead(upstreamRes.statusCode ?? 502, {
        ...out,
        "content-length": String(body.length),
        ...state.responseHeaders,
        "X-Kong-Upstream-Latency": String(Math.round(performance.now() - upstreamStarted)),
        "X-Kong-Proxy-Latency": String(Math.round(upstreamStarted - startedAt)),
        Via: `1.1 kong/${KONG_VERSION}`,
        "X-Kong-Request-Id": state.requestId,
      });
      res.end(body);
    });
  });
  const timeout = Number(service.read_timeout);
  let timedOut = false;
  upstream.setTimeout(Number.isFinite(timeout) ? timeout : 60000, () => {
    timedOut = true;
    upstream.destroy();
  });
  upstream.on("error", () => {
    if (res.headersSent) return;
    const status = timedOut ? 504 : 502;
    kongError(res, status, DEFAULT_STATUS_MESSAGES[status] ?? "", state.requestId, startedAt);
  });
  upstream.end(state.body);
}

function clientIpOf(req: IncomingMessage): string {
  return (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
}

async function handle(deps: ProxyDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const startedAt = performance.now();
  const requestId = randomBytes(16).toString("hex");
  const body = await readBody(req);
  const url = new URL(req.url ?? "/", "http://proxy.invalid");
  const method = req.method ?? "GET";
  const services = new Map(deps.store.list("services").map((s) => [String(s.id), s]));
  const routes = deps.store.list("routes").filter((r) => {
    const serviceId = refId(r.service);
    return serviceId === undefined || services.get(serviceId)?.enabled !== false;
  });
  const routable = {
    method,
    host: (req.headers.host ?? "").toLowerCase(),
    path: url.pathname,
    headers: req.headersDistinct,
  };
  const match = matchRoute(routes, routable);
  if (!match) return kongError(res, 404, "no Route matched with those values", requestId, startedAt);
  const protocols = Array.isArray(match.route.protocols) ? match.route.protocols : [];
  if (!protocols.includes("http")) {
    const status = Number(match.route.https_redirect_status_code);
    const location: { [name: string]: string } =
      status === 426 ? {} : { Location: `https://${req.headers.host ?? ""}${req.url ?? "/"}` };
    return exitWith(
      res,
      { status, body: { message: "Please use HTTPS protocol" }, headers: location },
      requestId,
      startedAt,
    );
  }
  const serviceId = refId(match.route.service);
  const service = serviceId === undefined ? undefined : services.get(serviceId);
  if (!service) return kongError(res, 503, "no Service found with those values", requestId, startedAt);
  const state: ProxyState = {
    requestId,
    route: match.route,
    service,
    method,
    clientIp: clientIpOf(req),
    clientHeaders: req.headersDistinct,
    query: new URLSearchParams(url.search),
    upstreamHeaders: {},
    responseHeaders: {},
    body,
  };
  Object.assign(state.upstreamHeaders, upstreamHeadersFor(req, state, match, url.pathname));
  const exit = runPlugins(deps, state);
  if (exit) return exitWith(res, exit, requestId, startedAt);
  forward(res, state, upstreamPath(service, match, url.pathname), startedAt);
}

/** Creates the proxy's request listener. */
export function createProxyHandler(deps: ProxyDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      deps.onUnexpected(err);
      if (!res.headersSent) sendJson(res, 500, { message: "An unexpected error occurred" });
    });
  };
}
