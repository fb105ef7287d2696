/**
 * `wicked portal-api`: the portal API as a process, configured from the environment the operator's
 * Deployment sets (WICKED_CONFIG, DATABASE_URL, PORT, WICKED_SECRETS_DIR with session/, whose key signs the
 * client addresses the portal UI forwards), with in-cluster Kubernetes credentials (or KUBECONFIG).
 */
import { KubeConfig } from "@kubernetes/client-node";
import { readClientAddressKey } from "../component/client-address.ts";
import { createLogger } from "../component/logger.ts";
import { createDatabase } from "../db/connect.ts";
import { createPortalApi } from "./app.ts";
import { readPortalApiConfig } from "./config.ts";
import { portalKube } from "./kube.ts";

/** A running component. */
export interface RunningComponent {
  /** Where it listens, e.g. `http://0.0.0.0:3001`. */
  url: string;
  /** Stops accepting requests, finishes the ones in flight, closes the database pool. */
  stop(): Promise<void>;
}

/** Starts the portal API from the environment; `wicked portal-api` calls this and stops it on SIGTERM. */
export async function runPortalApiFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<RunningComponent> {
  const logger = createLogger({ name: "portal-api", level: env.WICKED_LOG_LEVEL ?? "info" });
  const config = readPortalApiConfig(env.WICKED_CONFIG ?? "/etc/wicked/config.json");
  const clientAddressKey = readClientAddressKey(env.WICKED_SECRETS_DIR ?? "/etc/wicked/secrets");
  const databaseUrl = env.DATABASE_URL;
  if (!databaseUrl)
    throw new Error("DATABASE_URL is not set; the Deployment takes it from the ApiPortal's database Secret.");
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const db = createDatabase(databaseUrl, { applicationName: "wicked-portal-api", logger });
  const api = await createPortalApi({
    config,
    db,
    kube: portalKube(kubeConfig, config.portal.namespace),
    logger,
    trustProxy: env.WICKED_TRUSTED_PROXIES === undefined ? 1 : Number(env.WICKED_TRUSTED_PROXIES),
    clientAddressKey,
  });
  const url = await api.app.listen({ port: Number(env.PORT ?? 3001), host: env.HOST ?? "0.0.0.0" });
  logger.info({ url, routes: api.routes.length, namespace: config.portal.namespace }, "Started portal API");
  return {
    url,
    async stop() {
      await api.stop();
      await db.destroy();
      logger.info("Stopped portal API");
    },
  };
}
