/**
 * Prometheus metrics with the names and labels controller-runtime and client-go use, so the dashboards and
 * alerts people already have for Go operators work for wicked's operator unchanged.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** controller-runtime's buckets for controller_runtime_reconcile_time_seconds. */
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5,
  1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

/** client-go's workqueue buckets: 10 ns to 10 000 s in decades. */
const QUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);

/** What a work queue reports; the runtime's metrics or a no-op in unit tests. */
export interface QueueMetrics {
  /** An item was added (workqueue_adds_total). */
  added(): void;
  /** The number of items waiting changed (workqueue_depth). */
  depth(n: number): void;
  /** An item waited this long between add and get (workqueue_queue_duration_seconds). */
  queued(seconds: number): void;
  /** An item was processed for this long, get to done (workqueue_work_duration_seconds). */
  worked(seconds: number): void;
  /** An item was re-added through the rate limiter (workqueue_retries_total). */
  retried(): void;
}

/** What a work queue answers when metrics are scraped, for the gauges computed at scrape time. */
export interface QueueProbe {
  /** Sum of how long the items in processing have been processed so far, in seconds. */
  unfinishedWorkSeconds(): number;
  /** How long the longest-running item in processing has been processed, in seconds. */
  longestRunningProcessorSeconds(): number;
}

/** Metrics that do nothing, for queues outside a manager. */
export const NO_QUEUE_METRICS: QueueMetrics = {
  added() {},
  depth() {},
  queued() {},
  worked() {},
  retried() {},
};

/** Outcome label of controller_runtime_reconcile_total. */
export type ReconcileOutcome = "success" | "error" | "requeue" | "requeue_after";

/** All of the runtime's metrics, in one Registry of their own (plus the default process metrics). */
export class RuntimeMetrics {
  /** The registry served on /metrics. */
  readonly registry = new Registry();
  readonly reconcileTotal: Counter<"controller" | "result">;
  readonly reconcileErrors: Counter<"controller">;
  readonly terminalReconcileErrors: Counter<"controller">;
  /** Reconciles abandoned at their time limit (each also counts as an error). */
  readonly reconcileTimeouts: Counter<"controller">;
  /** Abandoned reconciles that have not ended yet: work that ignored its signal and may never end. */
  readonly abandonedReconciles: Gauge<"controller">;
  readonly reconcileTime: Histogram<"controller">;
  readonly maxConcurrentReconciles: Gauge<"controller">;
  readonly activeWorkers: Gauge<"controller">;
  readonly leaderStatus: Gauge<"name">;
  readonly restRequests: Counter<"code" | "method" | "host">;
  /** Successful writes to the apiserver by resource, so its write load is the operator's own figure. */
  readonly apiserverWrites: Counter<"resource">;
  private readonly queueDepth: Gauge<"name" | "controller">;
  private readonly queueAdds: Counter<"name" | "controller">;
  private readonly queueLatency: Histogram<"name" | "controller">;
  private readonly workDuration: Histogram<"name" | "controller">;
  private readonly retries: Counter<"name" | "controller">;
  private readonly probes = new Map<
    string,
    { labels: { name: string; controller: string }; probe: QueueProbe }
  >();

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.reconcileTotal = new Counter({
      name: "controller_runtime_reconcile_total",
      help: "Total number of reconciliations per controller",
      labelNames: ["controller", "result"],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: "controller_runtime_reconcile_errors_total",
      help: "Total number of reconciliation errors per controller",
      labelNames: ["controller"],
      registers,
    });
    this.terminalReconcileErrors = new Counter({
      name: "controller_runtime_terminal_reconcile_errors_total",
      help: "Total number of terminal reconciliation errors per controller",
      labelNames: ["controller"],
      registers,
    });
    this.reconcileTimeouts = new Counter({
      name: "controller_runtime_reconcile_timeouts_total",
      help: "Total number of reconciliations per controller abandoned because they ran past their time limit",
      labelNames: ["controller"],
      registers,
    });
    this.abandonedReconciles = new Gauge({
      name: "controller_runtime_abandoned_reconciles",
      help: "Number of reconciliations per controller abandoned at their time limit that are still running",
      labelNames: ["controller"],
      registers,
    });
    this.reconcileTime = new Histogram({
      name: "controller_runtime_reconcile_time_seconds",
      help: "Length of time per reconciliation per controller",
      labelNames: ["controller"],
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    this.maxConcurrentReconciles = new Gauge({
      name: "controller_runtime_max_concurrent_reconciles",
      help: "Maximum number of concurrent reconciles per controller",
      labelNames: ["controller"],
      registers,
    });
    this.activeWorkers = new Gauge({
      name: "controller_runtime_active_workers",
      help: "Number of currently used workers per controller",
      labelNames: ["controller"],
      registers,
    });
    this.leaderStatus = new Gauge({
      name: "leader_election_master_status",
      help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease.",
      labelNames: ["name"],
      registers,
    });
    this.restRequests = new Counter({
      name: "rest_client_requests_total",
      help: "Number of HTTP requests, partitioned by status code, method, and host.",
      labelNames: ["code", "method", "host"],
      registers,
    });
    this.apiserverWrites = new Counter({
      name: "wicked_apiserver_writes_total",
      help: "Successful writes (POST, PUT, PATCH, DELETE) to the apiserver, by resource (subresources as resource/subresource).",
      labelNames: ["resource"],
      registers,
    });
    const queueLabels = ["name", "controller"] as const;
    this.queueDepth = new Gauge({
      name: "workqueue_depth",
      help: "Current depth of workqueue",
      labelNames: queueLabels,
      registers,
    });
    this.queueAdds = new Counter({
      name: "workqueue_adds_total",
      help: "Total number of adds handled by workqueue",
      labelNames: queueLabels,
      registers,
    });
    this.queueLatency = new Histogram({
      name: "workqueue_queue_duration_seconds",
      help: "How long in seconds an item stays in workqueue before being requested",
      labelNames: queueLabels,
      buckets: QUEUE_BUCKETS,
      registers,
    });
    this.workDuration = new Histogram({
      name: "workqueue_work_duration_seconds",
      help: "How long in seconds processing an item from workqueue takes.",
      labelNames: queueLabels,
      buckets: QUEUE_BUCKETS,
      registers,
    });
    this.retries = new Counter({
      name: "workqueue_retries_total",
      help: "Total number of retries handled by workqueue",
      labelNames: queueLabels,
      registers,
    });
    const probes = this.probes;
    new Gauge({
      name: "workqueue_unfinished_work_seconds",
      help: "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases.",
      labelNames: queueLabels,
      registers,
      collect() {
        for (const { labels, probe } of probes.values()) this.set(labels, probe.unfinishedWorkSeconds());
      },
    });
    new Gauge({
      name: "workqueue_longest_running_processor_seconds",
      help: "How many seconds has the longest running processor for workqueue been running.",
      labelNames: queueLabels,
      registers,
      collect() {
        for (const { labels, probe } of probes.values())
          this.set(labels, probe.longestRunningProcessorSeconds());
      },
    });
  }

  /** The QueueMetrics of the work queue of a controller; `probe` answers the scrape-time gauges. */
  forQueue(controller: string, probe: QueueProbe): QueueMetrics {
    const labels = { name: controller, controller };
    this.probes.set(controller, { labels, probe });
    this.queueDepth.set(labels, 0);
    this.queueAdds.inc(labels, 0);
    this.retries.inc(labels, 0);
    return {
      added: () => this.queueAdds.inc(labels),
      depth: (n) => this.queueDepth.set(labels, n),
      queued: (s) => this.queueLatency.observe(labels, s),
      worked: (s) => this.workDuration.observe(labels, s),
      retried: () => this.retries.inc(labels),
    };
  }

  /** Initializes a controller's series at zero, so dashboards and alerts see them before the first event. */
  registerController(controller: string, maxConcurrent: number): void {
    this.maxConcurrentReconciles.set({ controller }, maxConcurrent);
    this.activeWorkers.set({ controller }, 0);
    for (const result of ["success", "error", "requeue", "requeue_after"] satisfies ReconcileOutcome[]) {
      this.reconcileTotal.inc({ controller, result }, 0);
    }
    this.reconcileErrors.inc({ controller }, 0);
    this.terminalReconcileErrors.inc({ controller }, 0);
    this.reconcileTimeouts.inc({ controller }, 0);
    this.abandonedReconciles.set({ controller }, 0);
  }
}

/** The resource a request path names (`subscriptions`, `subscriptions/status`, `leases`). Pure. */
export function resourceOfPath(path: string): string {
  const parts = (path.split("?")[0] ?? "").split("/").filter(Boolean);
  let rest = parts[0] === "api" ? parts.slice(2) : parts.slice(3);
  if (rest[0] === "namespaces" && rest.length > 2) rest = rest.slice(2);
  const [resource = "", , subresource] = rest;
  return subresource ? `${resource}/${subresource}` : resource;
}
