/**
 * `wicked operator`: the manager with wicked's controllers, configured from the environment.
 */
import { hostname } from "node:os";
import { KubeConfig } from "@kubernetes/client-node";
import pino from "pino";
import type { ComponentClusterRoles } from "./apiportal/components.ts";
import { PortalDatabases } from "./apiportal/database.ts";
import { apiController } from "./controllers/api.controller.ts";
import { apiClientController } from "./controllers/apiclient.controller.ts";
import { apiPortalController } from "./controllers/apiportal.controller.ts";
import { gatewayController } from "./controllers/gateway.controller.ts";
import { planController } from "./controllers/plan.controller.ts";
import { subscriptionController } from "./controllers/subscription.controller.ts";
import {
  defaultNotificationDeps,
  notificationControllers,
  notificationTuningFromEnv,
} from "./notifications/index.ts";
import { withDeadline } from "./runtime/deadline.ts";
import { createManager, type Manager } from "./runtime/manager.ts";

/** Settings of the operator process; every one has an environment variable. */
export interface OperatorConfig {
  /** KUBECONFIG, or the in-cluster service account when unset. */
  kubeconfig?: string;
  /** WICKED_METRICS_PORT, default 8080. */
  metricsPort: number;
  /** WICKED_HEALTH_PORT, default 8081. */
  healthPort: number;
  /** POD_NAMESPACE: where the leader election Lease lives; default "wicked-system". */
  leaseNamespace: string;
  /** POD_NAME or the host name: this replica's identity in the Lease. */
  identity: string;
  /** WICKED_IMAGE: image of the components when an ApiPortal names none. */
  image: string;
  /** WICKED_LOG_LEVEL, default info. */
  logLevel: string;
  /** WICKED_RESYNC_SECONDS: how often every object is reconciled even without changes; default 300. */
  resyncSeconds: number;
  /** WICKED_GATEWAY_RESYNC_SECONDS: how often each portal's Kong is checked for drift; default 60. */
  gatewayResyncSeconds: number;
  /** WICKED_WATCH_NAMESPACE: reconcile only this namespace (a Role suffices); all namespaces when unset. */
  watchNamespace?: string;
  /**
   * WICKED_PORTAL_API_CLUSTERROLE and WICKED_AUTH_SERVER_CLUSTERROLE: the ClusterRoles (shipped by the chart)
   * that each portal binds to its portal API's and auth server's ServiceAccounts; default wicked-<component>.
   */
  clusterRoles: ComponentClusterRoles;
  /**
   * WICKED_RECONCILE_TIMEOUT_SECONDS: longest one reconcile may run (e.g. waiting on a database that does not
   * answer) before it is abandoned, its worker freed and its object retried with backoff; default 30.
   */
  reconcileTimeoutSeconds: number;
  /**
   * WICKED_SHUTDOWN_TIMEOUT_SECONDS: longest SIGTERM waits for running reconciles before abandoning them;
   * default 10. Closing connections afterwards takes at most CLOSE_TIMEOUT_MS more, so the chart's
   * terminationGracePeriodSeconds must exceed the sum.
   */
  shutdownTimeoutSeconds: number;
}

/** How long stop() waits for the mailer and the database pools once the manager stopped. */
const CLOSE_TIMEOUT_MS = 3_000;

function positiveSeconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number of seconds, not "${raw}"`);
  return value;
}

/** Reads the operator's configuration from the environment. */
export function operatorConfigFromEnv(env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  return {
    ...(env.KUBECONFIG ? { kubeconfig: env.KUBECONFIG } : {}),
    metricsPort: Number(env.WICKED_METRICS_PORT ?? 8080),
    healthPort: Number(env.WICKED_HEALTH_PORT ?? 8081),
    leaseNamespace: env.POD_NAMESPACE ?? "wicked-system",
    identity: env.POD_NAME ?? `${hostname()}-${process.pid}`,
    image: env.WICKED_IMAGE ?? "ghcr.io/wicked-dev/wicked:0.1.0",
    logLevel: env.WICKED_LOG_LEVEL ?? "info",
    resyncSeconds: Number(env.WICKED_RESYNC_SECONDS ?? 300),
    gatewayResyncSeconds: Number(env.WICKED_GATEWAY_RESYNC_SECONDS ?? 60),
    ...(env.WICKED_WATCH_NAMESPACE ? { watchNamespace: env.WICKED_WATCH_NAMESPACE } : {}),
    clusterRoles: {
      "portal-api": env.WICKED_PORTAL_API_CLUSTERROLE ?? "wicked-portal-api",
      "auth-server": env.WICKED_AUTH_SERVER_CLUSTERROLE ?? "wicked-auth-server",
    },
    reconcileTimeoutSeconds: positiveSeconds(env, "WICKED_RECONCILE_TIMEOUT_SECONDS", 30),
    shutdownTimeoutSeconds: positiveSeconds(env, "WICKED_SHUTDOWN_TIMEOUT_SECONDS", 10),
  };
}

/**
 * Starts the operator. The returned stop() shuts it down gracefully and returns within shutdownTimeoutSeconds
 * plus a few seconds even when a reconcile hangs.
 */
export async function startOperator(
  config: OperatorConfig,
): Promise<{ manager: Manager; stop(): Promise<void> }> {
  const logger = pino({
    level: config.logLevel,
    redact: { paths: ["*.password", "*.token", "*.secret", "*.data"], censor: "[redacted]" },
  });
  const kubeConfig = new KubeConfig();
  if (config.kubeconfig) kubeConfig.loadFromFile(config.kubeconfig);
  else if (process.env.KUBERNETES_SERVICE_HOST) kubeConfig.loadFromCluster();
  else
    throw new Error(
      "No Kubernetes API to talk to: set KUBECONFIG, or run the operator in a pod (in-cluster service account)",
    );
  const databases = new PortalDatabases();
  const notifications = defaultNotificationDeps({
    databases,
    identity: config.identity,
    tuning: notificationTuningFromEnv(),
  });
  const manager = createManager({
    kubeConfig,
    logger,
    metricsPort: config.metricsPort,
    healthPort: config.healthPort,
    leaderElection: { namespace: config.leaseNamespace, name: "wicked-operator", identity: config.identity },
    ...(config.watchNamespace ? { namespace: config.watchNamespace } : {}),
    reconcileTimeoutMs: config.reconcileTimeoutSeconds * 1000,
    gracefulShutdownTimeoutMs: config.shutdownTimeoutSeconds * 1000,
    controllers: [
      apiPortalController({
        databases,
        defaultImage: config.image,
        clusterRoles: config.clusterRoles,
        resyncPeriodMs: config.resyncSeconds * 1000,
      }),
      apiController({ databases }),
      planController({ databases }),
      apiClientController({ databases }),
      subscriptionController({ databases }),
      gatewayController({ resyncPeriodMs: config.gatewayResyncSeconds * 1000 }),
      ...notificationControllers(notifications),
    ],
  });
  notifications.metrics.register(manager.registry);
  await manager.start();
  return {
    manager,
    async stop() {
      await manager.stop();
      // A reconcile abandoned in the middle of a query still holds its pooled connection, and ending a pool
      // waits for every connection to come back: give up on that rather than never exit.
      const closed = await withDeadline(
        async () => {
          await notifications.mailer.close();
          await databases.close();
        },
        { timeoutMs: CLOSE_TIMEOUT_MS },
      );
      if (closed.status === "rejected") throw closed.reason;
      if (closed.status === "timedOut")
        logger.warn({ timeoutMs: CLOSE_TIMEOUT_MS }, "Stopped waiting for the database pools to close");
    },
  };
}
