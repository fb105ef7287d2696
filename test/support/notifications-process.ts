/**
 * The notification controllers as an operator process of their own, for tests that SIGKILL and restart
 * the operator or run two replicas: a manager with leader election and only notificationControllers, as
 * operator/main.ts wires them into `wicked operator`. Run directly (`node --import tsx
 * test/support/notifications-process.ts`) it is that process; imported, it starts such processes. For
 * tests only.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { pathToFileURL } from "node:url";
import { KubeConfig } from "@kubernetes/client-node";
import pino from "pino";
import { freePort } from "../../hack/controlplane/controlplane.ts";
import { PortalDatabases } from "../../operator/apiportal/database.ts";
import {
  defaultNotificationDeps,
  notificationControllers,
  notificationTuningFromEnv,
} from "../../operator/notifications/index.ts";
import { createManager } from "../../operator/runtime/manager.ts";
import type { OperatorProcess } from "./operator-process.ts";

/** Starts a notifications process against the cluster of `kubeconfig`, with extra environment variables. */
export async function startNotificationsProcess(
  kubeconfig: string,
  identity: string,
  env: Record<string, string> = {},
): Promise<OperatorProcess> {
  const metricsPort = await freePort();
  const healthPort = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", "test/support/notifications-process.ts"],
    {
      env: {
        ...process.env,
        KUBECONFIG: kubeconfig,
        POD_NAME: identity,
        POD_NAMESPACE: env.POD_NAMESPACE ?? "default",
        WICKED_METRICS_PORT: String(metricsPort),
        WICKED_HEALTH_PORT: String(healthPort),
        WICKED_LOG_LEVEL: "debug",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const healthUrl = `http://127.0.0.1:${healthPort}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`the notifications process exited with ${child.exitCode}:\n${output}`);
    const ok = await fetch(`${healthUrl}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline)
      throw new Error(`the notifications process did not become healthy:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    identity,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    healthUrl,
    logs: () => output,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** The process itself: a manager running only the notification controllers. */
async function main(env: NodeJS.ProcessEnv): Promise<void> {
  const logger = pino({
    level: env.WICKED_LOG_LEVEL ?? "info",
    redact: { paths: ["*.password", "*.token", "*.secret", "*.data"], censor: "[redacted]" },
  });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(env.KUBECONFIG ?? "");
  const identity = env.POD_NAME ?? `notifications-${process.pid}`;
  const databases = new PortalDatabases();
  const notifications = defaultNotificationDeps({
    databases,
    identity,
    tuning: notificationTuningFromEnv(env),
  });
  const leaderElection = env.WICKED_LEADER_ELECTION !== "false";
  const manager = createManager({
    kubeConfig,
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
