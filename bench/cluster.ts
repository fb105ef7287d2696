/**
 * Cluster helpers of the operator benchmarks: apiserver write counts, bulk apply, cheap status listings and
 * the operator's own metrics. kubectl runs synchronously; the listings print one line per object so that
 * polling thousands of Subscriptions stays cheap.
 */
import type { Json } from "../test/support/cluster.ts";
import { kubectlOk } from "../test/support/kubectl.ts";
import { metricValue } from "../test/support/operator-process.ts";

/** Writes the apiserver served (POST, PUT, PATCH, DELETE, APPLY), excluding Lease renewals, from its metrics. */
export function apiserverWrites(kubeconfig: string): number {
  const text = kubectlOk(kubeconfig, ["get", "--raw", "/metrics"]);
  let sum = 0;
  for (const m of text.matchAll(/^apiserver_request_total\{(.*)\} (\d+)$/gm)) {
    const labels = m[1] ?? "";
    if (!/verb="(POST|PUT|PATCH|DELETE|APPLY)"/.test(labels) || labels.includes('resource="leases"'))
      continue;
    sum += Number(m[2]);
  }
  return sum;
}

/** Applies (or creates) objects in batches of 200, each batch one `kubectl` call with a List. */
export function applyList(
  kubeconfig: string,
  ns: string,
  items: Json[],
  verb: "apply" | "create" = "apply",
): void {
  for (let i = 0; i < items.length; i += 200) {
    kubectlOk(
      kubeconfig,
      [verb, "-n", ns, "-f", "-"],
      JSON.stringify({ apiVersion: "v1", kind: "List", items: items.slice(i, i + 200) }),
    );
  }
}

/** Phase and Programmed condition status of every Subscription in the namespace, one entry per object. */
export function subscriptionStates(
  kubeconfig: string,
  ns: string,
): Array<{ phase: string; programmed: string }> {
  const out = kubectlOk(kubeconfig, [
    "get",
    "subscriptions",
    "-n",
    ns,
    "-o",
    'jsonpath={range .items[*]}{.status.phase}{" "}{.status.conditions[?(@.type=="Programmed")].status}{"\\n"}{end}',
  ]);
  return out
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const [phase = "", programmed = ""] = line.split(" ");
      return { phase, programmed };
    });
}

/** Polls `probe` every `intervalMs` until it holds; fails after the timeout naming what did not happen. */
export async function waitFor(
  what: string,
  probe: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 2000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen in ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** What the operator's /metrics says about its memory and its work in progress. */
export interface OperatorSample {
  rssMiB: number;
  heapUsedMiB: number;
  /** Items waiting in every work queue. */
  queued: number;
  /** Reconciles running now. */
  busy: number;
}

/** Scrapes the operator's metrics endpoint. */
export async function sampleOperator(metricsUrl: string): Promise<OperatorSample> {
  const text = await (await fetch(metricsUrl)).text();
  const mib = (name: string) => metricValue(text, name) / 1024 / 1024;
  return {
    rssMiB: mib("process_resident_memory_bytes"),
    heapUsedMiB: mib("nodejs_heap_size_used_bytes"),
    queued: metricValue(text, "workqueue_depth"),
    busy: metricValue(text, "controller_runtime_active_workers"),
  };
}
