// Part of the Kong TEST DOUBLE (test/kong): never imported by the product.
// The bodies of `GET /` and `GET /status`, shaped like a Kong 3.9 node in DB mode.
import { hostname } from "node:os";
import { KONG_VERSION } from "./http-util.ts";
import type { JsonObject } from "./json.ts";
import { BUNDLED_PLUGIN_PRIORITIES } from "./plugin-schemas.ts";

/** What `GET /` needs to know about the running double. */
export interface NodeFacts {
  readonly nodeId: string;
  readonly adminListen: string;
  readonly proxyListen: string;
  /** Names of the plugins configured on at least one entity. */
  readonly pluginsInUse: readonly string[];
}

/** `GET /`: version 3.9.0, database postgres, and the bundled plugins with their priorities. */
export function nodeInfo(facts: NodeFacts): JsonObject {
  const names = Object.keys(BUNDLED_PLUGIN_PRIORITIES).sort();
  return {
    version: KONG_VERSION,
    edition: "community",
    tagline: "Welcome to kong",
    hostname: hostname(),
    node_id: facts.nodeId,
    lua_version: "LuaJIT 2.1.0-20231117",
    configuration: {
      database: "postgres",
      role: "traditional",
      router_flavor: "traditional_compatible",
      plugins: ["bundled"],
      loaded_plugins: Object.fromEntries(names.map((n) => [n, true])),
      admin_listen: [facts.adminListen],
      proxy_listen: [facts.proxyListen],
    },
    plugins: {
      available_on_server: Object.fromEntries(
        names.map((n) => [n, { version: KONG_VERSION, priority: BUNDLED_PLUGIN_PRIORITIES[n] ?? 0 }]),
      ),
      enabled_in_cluster: [...facts.pluginsInUse],
    },
    timers: { running: 0, pending: 0 },
    pids: { master: process.pid, workers: [process.pid] },
  };
}

/** Connection counters reported by `GET /status`. */
export interface StatusFacts {
  readonly totalRequests: number;
  readonly activeConnections: number;
}

/** `GET /status`: a reachable database and nginx-like connection counters. */
export function nodeStatus(facts: StatusFacts): JsonObject {
  return {
    database: { reachable: true },
    memory: { workers_lua_vms: [{ pid: process.pid, http_allocated_gc: "0 MiB" }], lua_shared_dicts: {} },
    server: {
      connections_accepted: facts.totalRequests,
      connections_handled: facts.totalRequests,
      connections_active: facts.activeConnections,
      connections_reading: 0,
      connections_writing: facts.activeConnections,
      connections_waiting: 0,
      total_requests: facts.totalRequests,
    },
  };
}
