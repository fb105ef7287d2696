/**
 * Runs `wicked operator` as a separate process, as it runs in a Deployment, so tests can SIGKILL it, run
 * two replicas and scrape its metrics.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { freePort } from "../../hack/controlplane/controlplane.ts";

/** A running operator process. */
export interface OperatorProcess {
  identity: string;
  metricsUrl: string;
  healthUrl: string;
  /** Everything it logged (JSON lines). */
  logs(): string;
  /** Sends SIGKILL: no cleanup, the lease stays held until it expires. */
  kill(): Promise<void>;
  /** Sends SIGTERM and waits for a graceful exit. */
  stop(): Promise<void>;
}

/**
 * Starts the operator against the cluster of `kubeconfig`, with extra environment variables. When
 * WICKED_TEST_OPERATOR_KUBECONFIG is set, the operator authenticates with that kubeconfig instead (the
 * chart's ServiceAccount, see charts/wicked/operator-rbac.int.test.ts) while the test keeps `kubeconfig`.
 */
export async function startOperatorProcess(
  kubeconfig: string,
  identity: string,
  env: Record<string, string> = {},
): Promise<OperatorProcess> {
  const metricsPort = await freePort();
  const healthPort = await freePort();
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "bin/wicked.ts", "operator"], {
    env: {
      ...process.env,
      KUBECONFIG: process.env.WICKED_TEST_OPERATOR_KUBECONFIG || kubeconfig,
      POD_NAME: identity,
      POD_NAMESPACE: env.POD_NAMESPACE ?? "default",
      WICKED_METRICS_PORT: String(metricsPort),
      WICKED_HEALTH_PORT: String(healthPort),
      WICKED_LOG_LEVEL: "debug",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const healthUrl = `http://127.0.0.1:${healthPort}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the operator exited with ${child.exitCode}:\n${output}`);
    const ok = await fetch(`${healthUrl}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`the operator did not become healthy:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    identity,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    healthUrl,
    logs: () => output,
    async kill() {
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** The value of a Prometheus counter or gauge, summed over the series whose labels include `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const seriesLabels = Object.fromEntries(
      [...(match[3] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => seriesLabels[k] === v)) sum += Number(match[4]);
  }
  return sum;
}
