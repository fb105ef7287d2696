/**
 * Operator memory with many Subscriptions: N Subscriptions in a portal without a gateway (spec.gateway mode
 * None, so the Kong test double, which slows down beyond a few thousand entities, is not in the loop). The
 * operator still caches every Subscription and its credentials Secret, issues the credentials, writes the
 * read model and sets the status; its RSS is read from its /metrics once every Subscription has settled
 * (phase Provisioning with the Programmed condition, the final state without a gateway), and its peak
 * while they were reconciled. Measures only.
 */
import { startOperatorProcess } from "../test/support/operator-process.ts";
import { applyList, type OperatorSample, sampleOperator, subscriptionStates } from "./cluster.ts";
import { chartOperatorTuning } from "./compiled.ts";
import { onInterrupt } from "./interrupt.ts";
import {
  type ClusterTarget,
  deleteBenchNamespace,
  portalObjects,
  preparedNamespace,
  subscriptions,
} from "./reconcile.bench.ts";
import type { BenchResult } from "./table.ts";

/** Options of the memory benchmark. */
export interface RssBenchOptions {
  subscriptions: number;
  /** Longest to wait for the Subscriptions to settle; the figures are then taken as they are. */
  timeoutMs: number;
  /** Delete the namespace at the end (and wait, bounded): for a cluster the benchmark does not own. */
  cleanup: boolean;
  /** The project compiled as shipped (compiled.ts), whose operator runs. */
  compiled: string;
}

/** Runs the memory benchmark. */
export async function runOperatorRssBench(
  target: ClusterTarget,
  opts: RssBenchOptions,
): Promise<BenchResult> {
  const { kubeconfig } = target;
  const count = opts.subscriptions;
  const ns = await preparedNamespace(target, "bench-rss");
  applyList(
    kubeconfig,
    ns,
    portalObjects(
      {
        displayName: "Bench",
        urls: { portal: "https://portal.example.com", gateway: "https://gateway.example.com" },
        database: { urlSecretRef: { name: "db", key: "url" } },
        gateway: { mode: "None" },
      },
      "http://upstream.example.com",
      count,
    ),
  );
  const tuning = chartOperatorTuning();
  const operator = await startOperatorProcess(
    kubeconfig,
    "bench-rss-op",
    { POD_NAMESPACE: ns, WICKED_LOG_LEVEL: "warn", ...tuning.env },
    opts.compiled,
    tuning.nodeFlags,
  );
  const forget = onInterrupt(() => operator.kill());
  try {
    const idle = await sampleOperator(operator.metricsUrl);
    const started = Date.now();
    // create, not apply: no last-applied annotation, so the objects are what a controller would create.
    applyList(kubeconfig, ns, subscriptions(count), "create");
    let peak = idle.rssMiB;
    let last: OperatorSample = idle;
    let settled = 0;
    const deadline = started + opts.timeoutMs;
    // Poll the operator's metrics (cheap) and list the Subscriptions only when its queues are empty.
    for (;;) {
      await new Promise((r) => setTimeout(r, 5000));
      last = await sampleOperator(operator.metricsUrl);
      peak = Math.max(peak, last.rssMiB);
      if ((last.queued === 0 && last.busy === 0) || Date.now() > deadline) {
        settled = subscriptionStates(kubeconfig, ns).filter(
          (s) => s.phase === "Provisioning" && s.programmed === "False",
        ).length;
        if (settled === count || Date.now() > deadline) break;
      }
    }
    const settleSeconds = (Date.now() - started) / 1000;
    const done = settled === count;
    const result: BenchResult = {
      bench: "operator-memory",
      figures: [
        { measure: "operator RSS, idle (portal only)", unit: "MiB", value: Math.round(idle.rssMiB) },
        {
          measure: `operator RSS, ${count} Subscriptions settled`,
          unit: "MiB",
          value: Math.round(last.rssMiB),
        },
        {
          measure: `operator heap used, ${count} Subscriptions`,
          unit: "MiB",
          value: Math.round(last.heapUsedMiB),
        },
        { measure: `operator peak RSS while reconciling ${count}`, unit: "MiB", value: Math.round(peak) },
        {
          measure: `create → ${done ? "all" : `${settled} of`} ${count} settled`,
          unit: "s",
          value: settleSeconds,
        },
      ],
      notes: [
        `gateway mode None (no Kong): ${count} Subscriptions, each with its credentials Secret; "settled" = phase Provisioning with Programmed=False (GatewayNotConfigured), the final state without a gateway. RSS from process_resident_memory_bytes of the operator's /metrics (sampled every 5 s for the peak).`,
        ...(done
          ? []
          : [
              `only ${settled} of ${count} settled within ${opts.timeoutMs / 60_000} min; figures taken then.`,
            ]),
      ],
    };
    if (opts.cleanup) {
      if ((await deleteBenchNamespace(kubeconfig, ns, 30 * 60_000)) === undefined) {
        result.notes.push(`the wicked objects of namespace ${ns} were not gone in time; delete it by hand.`);
      }
    }
    return result;
  } finally {
    forget();
    await operator.stop();
  }
}
