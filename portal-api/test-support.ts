/**
 * Helpers for the portal API's unit tests: an app over a database URL that is never connected to and a
 * Kubernetes client that fails if called, for the routes that must answer without either (and for
 * hack/openapi, which reads the served OpenAPI document the same way).
 */

import { createLogger } from "../component/logger.ts";
import { createDatabase } from "../db/connect.ts";
import { createPortalApi, type PortalApi } from "./app.ts";
import type { PortalApiConfig } from "./config.ts";
import type { PortalKube } from "./kube.ts";

/** A portal-api configuration as the operator renders it for a portal `demo` in namespace `team`. */
export function testConfig(overrides: Partial<PortalApiConfig> = {}): PortalApiConfig {
  return {
    portal: { namespace: "team", name: "demo" },
    displayName: "Demo",
    urls: {
      portal: "https://developer.example.com",
      api: "https://developer.example.com/api",
      auth: "https://developer.example.com/auth",
      gateway: "https://api.example.com",
    },
    groups: { admin: "admin", approver: "approver", mappings: [] },
    login: { local: { enabled: true, allowSignup: true, passwordMinLength: 12 } },
    mail: { enabled: true },
    ...overrides,
  };
}

/** A PortalKube whose every call fails: unit tests prove a route answers without the cluster. */
export const unreachableKube: PortalKube = new Proxy({ namespace: "team" } as PortalKube, {
  get(target, property) {
    if (property === "namespace") return target.namespace;
    if (property === "then") return undefined;
    return () => Promise.reject(new Error(`unit test called kube.${String(property)}`));
  },
});

/** The portal API with no reachable database or cluster. */
export async function offlinePortalApi(
  config = testConfig(),
): Promise<PortalApi & { close(): Promise<void> }> {
  const db = createDatabase("postgres://nobody:nothing@127.0.0.1:9/none", { connectionTimeoutMs: 200 });
  const api = await createPortalApi({
    config,
    db,
    kube: unreachableKube,
    logger: createLogger({ name: "portal-api", level: "silent" }),
  });
  return {
    ...api,
    async close() {
      await api.stop();
      await db.destroy();
    },
  };
}
