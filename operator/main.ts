/**
 * `wicked operator`: the manager with wicked's controllers, configured from the environment.
 */
import { hostname } from "node:os";
import pino from "pino";
import type { ApiPortal } from "../api/v1alpha1/index.ts";
import { withDeadline } from "../controller-runtime/deadline.ts";
import { loadClusterAccess } from "../controller-runtime/kubeconfig.ts";
import { createManager, type Manager } from "../controller-runtime/manager.ts";
import { gvkString } from "../controller-runtime/types.ts";
import type { ComponentClusterRoles } from "./apiportal/components.ts";
import { PortalDatabases } from "./apiportal/database.ts";
import { secretsReferencedBy } from "./apiportal/referenced-secrets.ts";
import { apiController } from "./controllers/api.controller.ts";
import { apiClientController } from "./controllers/apiclient.controller.ts";
import { apiPortalController } from "./controllers/apiportal.controller.ts";
import { gatewayController } from "./controllers/gateway.controller.ts";
import { planController } from "./controllers/plan.controller.ts";
import { subscriptionController } from "./controllers/subscription.controller.ts";
import { APIPORTAL, HTTPROUTE, INGRESS, JOB, NETWORKPOLICY, SECRET } from "./gvks.ts";
import {
  defaultNotificationDeps,
  notificationControllers,
  notificationTuningFromEnv,
} from "./notifications/index.ts";
import { SUBSCRIPTION_LABEL } from "./subscription/credentials.ts";
import { ProgrammedSubscriptions } from "./subscription/programmed.ts";

/** Settings of the operator process; every one has an environment variable. */
export interface OperatorConfig {
  /** KUBECONFIG, or the in-cluster service account when unset. */
  kubeconfig?: string;
  /** WICKED_METRICS_PORT, default 8080. */
  metricsPort: number;
  /** WICKED_HEALTH_PORT, default 8081. */
  healthPort: number;
  /**
   * POD_NAMESPACE: where the leader election Lease lives, and the namespace a managed Kong admits Admin API
   * requests from; default "wicked-system".
   */
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
  /**
   * WICKED_WATCH_NAMESPACES: reconcile only these namespaces (comma-separated; the chart binds the operator's
   * role only there); all namespaces when unset.
   */
  watchNamespaces: string[];
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

/** The label selector of the objects the operator creates (components.ts componentLabels). */
const MANAGED_BY_OPERATOR = "app.kubernetes.io/managed-by=wicked-operator";

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
    watchNamespaces: (env.WICKED_WATCH_NAMESPACES ?? "")
      .split(",")
      .map((n) => n.trim())
      .filter((n) => n !== ""),
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
  const cluster = loadClusterAccess(config.kubeconfig);
  const databases = new PortalDatabases();
  const notifications = defaultNotificationDeps({
    databases,
    identity: config.identity,
    tuning: notificationTuningFromEnv(),
  });
  const programmed = new ProgrammedSubscriptions();
  const manager = createManager({
    cluster,
    logger,
    metricsPort: config.metricsPort,
    healthPort: config.healthPort,
    leaderElection: { namespace: config.leaseNamespace, name: "wicked-operator", identity: config.identity },
    namespaces: config.watchNamespaces,
    // Secrets: only those granted to a subscription (generated or brought), the others the operator
    // generates, and (by name) those a portal points at; never the rest of the cluster's.
    cacheSelectors: {
      [gvkString(SECRET)]: [
        SUBSCRIPTION_LABEL,
        `app.kubernetes.io/managed-by=wicked-operator,!${SUBSCRIPTION_LABEL}`,
      ],
      // The edge's kinds (a managed Kong's Jobs and NetworkPolicy, the routing objects): only the operator's,
      // not every Job and Ingress of the cluster.
      ...Object.fromEntries(
        [JOB, NETWORKPOLICY, INGRESS, HTTPROUTE].map((gvk) => [gvkString(gvk), [MANAGED_BY_OPERATOR]]),
      ),
    },
    // The Gateway API may not be installed: an ApiPortal then says so (GatewayApiNotInstalled).
    optionalKinds: [gvkString(HTTPROUTE)],
    cacheReferences: [
      { from: APIPORTAL, to: SECRET, names: (portal) => secretsReferencedBy(portal as unknown as ApiPortal) },
    ],
    reconcileTimeoutMs: config.reconcileTimeoutSeconds * 1000,
    gracefulShutdownTimeoutMs: config.shutdownTimeoutSeconds * 1000,
    controllers: [
      apiPortalController({
        databases,
        defaultImage: config.image,
        clusterRoles: config.clusterRoles,
        operatorNamespace: config.leaseNamespace,
        resyncPeriodMs: config.resyncSeconds * 1000,
      }),
      apiController({ databases }),
      planController({ databases }),
      apiClientController({ databases }),
      subscriptionController({ databases, programmed }),
      gatewayController({ resyncPeriodMs: config.gatewayResyncSeconds * 1000, programmed }),
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
