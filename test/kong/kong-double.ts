// THIS IS A TEST DOUBLE. It imitates the subset of the Kong 3.x (OSS, DB mode) Admin API that wicked's sync
// engine uses, and a proxy port that enforces key-auth, jwt, acl and rate-limiting, so that tests can call an
// API "through the gateway" on machines where Kong cannot be installed. It lives under test/, is never shipped
// and is never imported by the product. Behaviour follows /work/shared/KONG.md and Kong's sources; the contract
// suite (kong.contract.test.ts) runs the same checks against a real Kong when KONG_ADMIN_URL is set.
//
// Limits, on purpose: request bodies are JSON only (no form encoding), there is no DB-less mode, no consumer
// groups, no upstreams/targets/certificates, and plugins other than the four above are stored but not run.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { type AdminContext, handleAdminRequest } from "./admin-api.ts";
import type { Clock } from "./clock.ts";
import { ENTITIES } from "./entities.ts";
import { type AdminFaults, FaultInjector } from "./faults.ts";
import { close, listen, readBody, sendJson } from "./http-util.ts";
import { isJsonObject, type Json, type JsonObject } from "./json.ts";
import { DEFAULT_STATUS_MESSAGES, unparsableJson } from "./kong-errors.ts";
import { nodeInfo, nodeStatus } from "./node-info.ts";
import { aclPlugin } from "./plugins/acl.ts";
import { jwtPlugin } from "./plugins/jwt.ts";
import { keyAuthPlugin } from "./plugins/key-auth.ts";
import { LocalCounters, rateLimitingPlugin } from "./plugins/rate-limiting.ts";
import { type CredentialDirectory, consumerIdOf } from "./plugins/types.ts";
import { createProxyHandler } from "./proxy.ts";
import { KongStore } from "./store.ts";

/** How to start the double. */
export interface KongDoubleOptions {
  /** "Now" in epoch milliseconds for timestamps, rate-limit windows and jwt `exp`/`nbf`; defaults to `Date.now`. */
  readonly now?: Clock;
  /** Seed of the random source behind `faults.failRate`; defaults to 1. */
  readonly seed?: number;
  /** Interface to listen on; defaults to 127.0.0.1. */
  readonly host?: string;
  /** Admin API port; defaults to a free port. */
  readonly adminPort?: number;
  /** Proxy port; defaults to a free port. */
  readonly proxyPort?: number;
}

/** One Admin API request as the double answered it, for tests that check which calls were made. */
export interface AdminRequestRecord {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

/** A running double. */
export interface KongDouble {
  /** Base URL of the Admin API, e.g. `http://127.0.0.1:40123`. */
  readonly adminUrl: string;
  /** Base URL of the proxy. */
  readonly proxyUrl: string;
  /** Fault injection on the Admin API. */
  readonly faults: AdminFaults;
  /** Successful (2xx) POST, PUT, PATCH and DELETE Admin API requests since start or `resetCounters()`. */
  readonly writes: number;
  /** Every Admin API request answered since start or `resetCounters()`, oldest first. */
  readonly adminRequests: readonly AdminRequestRecord[];
  /** Failures of the double itself (answered with 500); a test can assert there were none. */
  readonly unexpectedErrors: readonly unknown[];
  /** Zeroes `writes` and empties `adminRequests`. */
  resetCounters(): void;
  /** Deletes every entity and rate-limit counter, and zeroes the counters. */
  reset(): void;
  /** Stops both ports. */
  stop(): Promise<void>;
}

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function directoryOf(store: KongStore): CredentialDirectory {
  return {
    consumerById: (id) => store.byId("consumers", id),
    consumerByIdOrUsername: (key) => store.find(ENTITIES.consumers, key),
    keyAuthByKey: (key) => store.byUnique("keyauth_credentials", "key", key),
    jwtSecretByKey: (key) => store.byUnique("jwt_secrets", "key", key),
    aclGroups: (consumerId) =>
      store
        .list("acls")
        .filter((a) => consumerIdOf(a) === consumerId)
        .map((a) => String(a.group)),
  };
}

/** The JSON object body of a write; undefined when it cannot be read as one (Kong: `Cannot parse JSON body`). */
function parseBody(method: string, raw: Buffer, contentType: string | undefined): JsonObject | undefined {
  if (!MUTATING.has(method) || raw.length === 0) return {};
  if (contentType !== undefined && !contentType.includes("json")) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw.toString("utf8"));
    return isJsonObject(parsed) ? (parsed as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}

/** Starts the Kong test double: an Admin API and a proxy on free local ports. */
export async function startKongDouble(options: KongDoubleOptions = {}): Promise<KongDouble> {
  const clock = options.now ?? Date.now;
  const host = options.host ?? "127.0.0.1";
  const store = new KongStore(clock);
  const counters = new LocalCounters();
  const directory = directoryOf(store);
  const unexpectedErrors: unknown[] = [];
  const onUnexpected = (err: unknown): void => {
    unexpectedErrors.push(err);
  };
  let writes = 0;
  let totalRequests = 0;
  let adminRequests: AdminRequestRecord[] = [];
  const sockets = new Set<Socket>();
  const nodeId = randomUUID();
  let adminPort = options.adminPort ?? 0;
  let proxyPort = options.proxyPort ?? 0;

  const ctx: AdminContext = {
    store,
    onUnexpected,
    nodeInfo: () =>
      nodeInfo({
        nodeId,
        adminListen: `${host}:${adminPort}`,
        proxyListen: `${host}:${proxyPort}`,
        pluginsInUse: [...new Set(store.list("plugins").map((p) => String(p.name)))],
      }),
    nodeStatus: () => nodeStatus({ totalRequests, activeConnections: sockets.size }),
  };

  const adminServer = createServer();
  const faults = new FaultInjector(options.seed ?? 1, {
    refuse: async () => {
      for (const socket of sockets) socket.destroy();
      await close(adminServer);
    },
    accept: async () => {
      if (!adminServer.listening) await listen(adminServer, host, adminPort);
    },
  });

  async function answerAdmin(req: IncomingMessage, res: ServerResponse): Promise<void> {
    totalRequests += 1;
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://admin.invalid");
    const raw = await readBody(req);
    const decision = faults.decide();
    if (decision.delayMs > 0) await new Promise((r) => setTimeout(r, decision.delayMs));
    let status: number;
    let body: Json | undefined;
    if (decision.failWith !== undefined) {
      status = decision.failWith;
      body = { message: DEFAULT_STATUS_MESSAGES[status] ?? "An unexpected error occurred" };
    } else {
      const parsed = parseBody(method, raw, req.headers["content-type"]);
      const answer = parsed ? handleAdminRequest(ctx, { method, url, body: parsed }) : unparsableJson();
      status = answer.status;
      body = answer.body;
      if (MUTATING.has(method) && status < 300) writes += 1;
    }
    adminRequests.push({ method, path: `${url.pathname}${url.search}`, status });
    sendJson(res, status, body, { "X-Kong-Admin-Latency": "0", "Access-Control-Allow-Origin": "*" });
  }

  adminServer.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  adminServer.on("request", (req: IncomingMessage, res: ServerResponse) => {
    answerAdmin(req, res).catch((err: unknown) => {
      onUnexpected(err);
      if (!res.headersSent) sendJson(res, 500, { message: "An unexpected error occurred" });
    });
  });

  const proxyServer = createServer(
    createProxyHandler({
      store,
      onUnexpected,
      handlers: {
        "key-auth": keyAuthPlugin(directory),
        jwt: jwtPlugin(directory, clock),
        acl: aclPlugin(directory),
        "rate-limiting": rateLimitingPlugin(counters, clock),
      },
    }),
  );

  adminPort = await listen(adminServer, host, adminPort);
  proxyPort = await listen(proxyServer, host, proxyPort);

  return {
    adminUrl: `http://${host}:${adminPort}`,
    proxyUrl: `http://${host}:${proxyPort}`,
    faults,
    get writes() {
      return writes;
    },
    get adminRequests() {
      return adminRequests;
    },
    unexpectedErrors,
    resetCounters() {
      writes = 0;
      adminRequests = [];
    },
    reset() {
      store.clear();
      counters.clear();
      writes = 0;
      adminRequests = [];
    },
    async stop() {
      await Promise.all([close(adminServer), close(proxyServer)]);
    },
  };
}
