/**
 * The notification controllers as an operator process of their own, for tests that SIGKILL and restart
 * the operator or run two replicas: a manager with leader election and only notificationControllers, as
 * operator/main.ts wires them into `wicked operator`. Run directly (`node --import tsx
 * test/support/notifications-process.ts`) it is that process; imported, it starts such processes. For
 * tests only.
 */
import { pathToFileURL } from "node:url";
import pino from "pino";
import { kubeconfigAccess } from "../../controller-runtime/kubeconfig.ts";
import { createManager } from "../../controller-runtime/manager.ts";
import { PortalDatabases } from "../../operator/apiportal/database.ts";
import {
  defaultNotificationDeps,
  notificationControllers,
  notificationTuningFromEnv,
} from "../../operator/notifications/index.ts";
import { type OperatorProcess, startManagerProcess } from "./operator-process.ts";

/** Starts a notifications process against the cluster of `kubeconfig`, with extra environment variables. */
export function startNotificationsProcess(
  kubeconfig: string,
  identity: string,
  env: Record<string, string> = {},
): Promise<OperatorProcess> {
  return startManagerProcess("the notifications process", ["test/support/notifications-process.ts"], {
    KUBECONFIG: kubeconfig,
    POD_NAME: identity,
    ...env,
  });
}

/** The process itself: a manager running only the notification controllers. */
async function main(env: NodeJS.ProcessEnv): Promise<void> {
  const logger = pino({
    level: env.WICKED_LOG_LEVEL ?? "info",
    redact: { paths: ["*.password", "*.token", "*.secret", "*.data"], censor: "[redacted]" },
  });
  const identity = env.POD_NAME ?? `notifications-${process.pid}`;
  const databases = new PortalDatabases();
  const notifications = defaultNotificationDeps({
    databases,
    identity,
    tuning: notificationTuningFromEnv(env),
  });
  const leaderElection = env.WICKED_LEADER_ELECTION !== "false";
  const manager = createManager({
    cluster: kubeconfigAccess(env.KUBECONFIG ?? ""),
    logger,
    metricsPort: Number(env.WICKED_METRICS_PORT ?? 8080),
    healthPort: Number(env.WICKED_HEALTH_PORT ?? 8081),
    bindAddress: "127.0.0.1",
    controllers: notificationControllers(notifications),
    ...(leaderElection
      ? {
          leaderElection: {
            namespace: env.POD_NAMESPACE ?? "default",
            name: env.WICKED_LEASE_NAME ?? "wicked-operator",
            identity,
            leaseDurationSeconds: Number(env.WICKED_LEASE_DURATION_SECONDS ?? 15),
            renewDeadlineSeconds: Number(env.WICKED_RENEW_DEADLINE_SECONDS ?? 10),
            retryPeriodSeconds: Number(env.WICKED_RETRY_PERIOD_SECONDS ?? 2),
          },
        }
      : {}),
  });
  notifications.metrics.register(manager.registry);
  await manager.start();
  let stopping = false;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      manager
        .stop()
        .then(() => notifications.mailer.close())
        .then(() => databases.close())
        .then(
          () => process.exit(0),
          (err: unknown) => {
            console.error(err);
            process.exit(1);
          },
        );
    });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.env);
}
