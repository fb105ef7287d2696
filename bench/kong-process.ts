/**
 * The Kong test double in a process of its own (test/kong/serve.ts), so the benchmark's figures are the
 * operator's and not the double's, which would otherwise share the benchmark's event loop.
 */
import { freePort } from "../hack/controlplane/controlplane.ts";
import { startTestProcess } from "../test/support/child-process.ts";

/** The double as the reconcile benchmark uses it. */
export interface KongProcess {
  adminUrl: string;
  proxyUrl: string;
  /** Successful Admin API writes since start or the last resetCounters(). */
  writes(): Promise<number>;
  resetCounters(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the double and waits until it listens. */
export async function startKongProcess(): Promise<KongProcess> {
  const controlPort = await freePort();
  const child = await startTestProcess({
    what: "the Kong test double",
    args: ["test/kong/serve.ts"],
    env: { KONG_DOUBLE_CONTROL_PORT: String(controlPort) },
    ready: (output) => output.includes('"controlUrl"'),
  });
  const urls = JSON.parse(
    child
      .logs()
      .split("\n")
      .find((l) => l.includes('"controlUrl"')) ?? "{}",
  ) as {
    adminUrl: string;
    proxyUrl: string;
    controlUrl: string;
  };
  return {
    adminUrl: urls.adminUrl,
    proxyUrl: urls.proxyUrl,
    async writes() {
      const body = (await (await fetch(`${urls.controlUrl}/counters`)).json()) as { writes: number };
      return body.writes;
    },
    async resetCounters() {
      await fetch(`${urls.controlUrl}/counters/reset`, { method: "POST" });
    },
    stop: () => child.stop(),
  };
}
