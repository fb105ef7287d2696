/**
 * Cluster helpers of the operator benchmarks: apiserver write counts, bulk apply, cheap status listings and
 * the operator's own metrics. kubectl runs synchronously; the listings print one line per object so that
 * polling thousands of Subscriptions stays cheap.
 */
import { execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { binaries } from "../hack/controlplane/controlplane.ts";
import type { Json } from "../test/support/cluster.ts";
import { kubectlOk } from "../test/support/kubectl.ts";
import { metricValue } from "../test/support/operator-process.ts";

/** The operator's successful apiserver writes so far by resource, from its own metrics, without its Lease renewals. */
export async function operatorWrites(metricsUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const writes = new Map<string, number>();
  for (const m of text.matchAll(/^wicked_apiserver_writes_total\{resource="([^"]*)"\} (\d+)$/gm)) {
    if (m[1] !== "leases") writes.set(m[1] ?? "", Number(m[2]));
  }
  return writes;
}

/** Writes in `after` that were not in `before`, by resource, and their total. */
export function writesSince(before: Map<string, number>, after: Map<string, number>) {
  const byResource = [...after]
    .map(([r, n]) => [r, n - (before.get(r) ?? 0)] as const)
    .filter(([, n]) => n > 0);
  return { total: byResource.reduce((sum, [, n]) => sum + n, 0), byResource };
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

/**
 * Creates objects with `parallel` kubectl processes at once, each creating 200 per call: a create waits on
 * the admission webhooks (a few apiserver reads each), so one kubectl alone measures their latency, not the
 * operator. GitOps controllers apply in parallel too.
 */
export async function createInParallel(
  kubeconfig: string,
  ns: string,
  items: Json[],
  parallel = 4,
): Promise<void> {
  const batches: Json[][] = [];
  for (let i = 0; i < items.length; i += 200) batches.push(items.slice(i, i + 200));
  const worker = async () => {
    for (let batch = batches.shift(); batch; batch = batches.shift()) {
      await new Promise<void>((resolve, reject) => {
        const child = execFile(
          join(binaries(), "kubectl"),
          [`--kubeconfig=${kubeconfig}`, "create", "-n", ns, "-f", "-"],
          { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
          (err, _stdout, stderr) =>
            err ? reject(new Error(`kubectl create failed: ${stderr || err.message}`)) : resolve(),
        );
        child.stdin?.end(JSON.stringify({ apiVersion: "v1", kind: "List", items: batch }));
      });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
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

/** The phases of a namespace's Subscriptions as one watch sees them. */
export interface PhaseWatch {
  /** Subscriptions in this phase now. */
  count(phase: string): number;
  stop(): void;
}

/**
 * Keeps the phase of every Subscription of the namespace from one `kubectl get --watch` (restarted if it
 * ends): the benchmark pays per change, where listing ten thousand Subscriptions every second would cost
 * the apiserver (and the two cores the operator shares with it) more than the operator's own work.
 */
export function watchSubscriptionPhases(kubeconfig: string, ns: string): PhaseWatch {
  const phases = new Map<string, string>();
  let stopped = false;
  let child: ReturnType<typeof spawn> | undefined;
  const start = () => {
    child = spawn(
      join(binaries(), "kubectl"),
      [
        ...["get", "subscriptions", "-n", ns, "--watch", "--no-headers"],
        // Not jsonpath: with --watch it renders the first list as one object, not as its items.
        "-o=custom-columns=NAME:.metadata.name,PHASE:.status.phase",
      ],
      { env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ["ignore", "pipe", "ignore"] },
    );
    if (child.stdout)
      createInterface({ input: child.stdout }).on("line", (line) => {
        const [name = "", phase = ""] = line.trim().split(/\s+/);
        if (name) phases.set(name, phase);
      });
    child.once("exit", () => {
      if (!stopped) setTimeout(start, 1000);
    });
  };
  start();
  return {
    count: (phase) => [...phases.values()].filter((p) => p === phase).length,
    stop() {
      stopped = true;
      child?.kill();
    },
  };
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
  /** What V8 has reserved for its heap (used, garbage not yet collected, and free pages). */
  heapTotalMiB: number;
  /** Memory outside the V8 heap that V8 knows of (Buffers and the like). */
  externalMiB: number;
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
    heapTotalMiB: mib("nodejs_heap_size_total_bytes"),
    externalMiB: mib("nodejs_external_memory_bytes"),
    queued: metricValue(text, "workqueue_depth"),
    busy: metricValue(text, "controller_runtime_active_workers"),
  };
}
