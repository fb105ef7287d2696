/**
 * Runs `wicked operator` as a separate process, as it runs in a Deployment, so tests can SIGKILL it, run
 * two replicas and scrape its metrics.
 */
import { join } from "node:path";
import { freePort } from "../../hack/controlplane/controlplane.ts";
import { healthy, startTestProcess } from "./child-process.ts";

/** A running operator process. */
export interface OperatorProcess {
  identity: string;
  pid: number;
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
  /** A directory compiled as the image is (bench/compiled.ts): run it with plain node, as the image does. */
  compiled?: string,
  /** Node's and V8's command-line flags for the compiled operator (the chart's, bench/compiled.ts). */
  nodeFlags: readonly string[] = [],
): Promise<OperatorProcess> {
  const vars = {
    KUBECONFIG: process.env.WICKED_TEST_OPERATOR_KUBECONFIG || kubeconfig,
    POD_NAME: identity,
    ...env,
  };
  if (!compiled) return startManagerProcess("the operator", ["bin/wicked.ts", "operator"], vars);
  return startManagerProcess("the operator", [join(compiled, "bin/wicked.js"), "operator"], vars, [
    "--enable-source-maps",
    ...nodeFlags,
  ]);
}

/** Starts a process running a controller manager (the operator, or a part of it) and waits for /healthz. */
export async function startManagerProcess(
  what: string,
  args: string[],
  env: Record<string, string> & { POD_NAME: string },
  nodeOptions?: string[],
): Promise<OperatorProcess> {
  const metricsPort = await freePort();
  const healthPort = await freePort();
  const healthUrl = `http://127.0.0.1:${healthPort}`;
  const child = await startTestProcess({
    what,
    args,
    ...(nodeOptions ? { nodeOptions } : {}),
    env: {
      POD_NAMESPACE: "default",
      WICKED_METRICS_PORT: String(metricsPort),
      WICKED_HEALTH_PORT: String(healthPort),
      WICKED_LOG_LEVEL: "debug",
      ...env,
    },
    ready: () => healthy(`${healthUrl}/healthz`),
  });
  return {
    identity: env.POD_NAME,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    healthUrl,
    ...child,
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
