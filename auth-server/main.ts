/**
 * `wicked auth-server`: the auth server as a process, configured from the environment the operator's
 * Deployment sets (WICKED_CONFIG, DATABASE_URL, PORT, WICKED_SECRETS_DIR with session/ and signing/), with
 * in-cluster Kubernetes credentials (or KUBECONFIG) for reading Secrets.
 */
import { KubeConfig } from "@kubernetes/client-node";
import { createLogger } from "../component/logger.ts";
import { createDatabase } from "../db/connect.ts";
import { createAuthServer } from "./app.ts";
import { readAuthServerConfig } from "./config.ts";
import { readAuthKeys } from "./keys.ts";
import { kubeSecretReader } from "./kube.ts";

/** A running component. */
export interface RunningComponent {
  /** Where it listens, e.g. `http://0.0.0.0:3010`. */
  url: string;
  /** Stops accepting requests, finishes the ones in flight, closes the database pool. */
  stop(): Promise<void>;
}

/** Starts the auth server from the environment; `wicked auth-server` calls this and stops it on SIGTERM. */
export async function runAuthServerFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<RunningComponent> {
  const logger = createLogger({ name: "auth-server", level: env.WICKED_LOG_LEVEL ?? "info" });
  const config = readAuthServerConfig(env.WICKED_CONFIG ?? "/etc/wicked/config.json");
  const keys = readAuthKeys(env.WICKED_SECRETS_DIR ?? "/etc/wicked/secrets");
  const databaseUrl = env.DATABASE_URL;
  if (!databaseUrl)
    throw new Error("DATABASE_URL is not set; the Deployment takes it from the ApiPortal's database Secret.");
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const db = createDatabase(databaseUrl, { applicationName: "wicked-auth-server", logger });
  const server = await createAuthServer({
    config,
    db,
    secrets: kubeSecretReader(kubeConfig, config.portal.namespace),
    keys,
    logger,
    trustProxy: env.WICKED_TRUSTED_PROXIES === undefined ? 1 : Number(env.WICKED_TRUSTED_PROXIES),
  });
  const url = await server.app.listen({ port: Number(env.PORT ?? 3010), host: env.HOST ?? "0.0.0.0" });
  logger.info({ url, issuer: config.urls.auth, signingKeys: keys.jwks.keys.length }, "Started auth server");
  return {
    url,
    async stop() {
      await server.stop();
      await db.destroy();
      logger.info("Stopped auth server");
    },
  };
}
