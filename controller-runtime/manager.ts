/**
 * The manager wires the runtime together, like controller-runtime's Manager: one client, one shared
 * informer cache, the controllers, leader election, the metrics and health servers, and an orderly start and
 * stop. It is what `wicked operator` runs and what tests start in-process.
 */
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { type BackoffOptions, DEFAULT_WATCH_BACKOFF } from "./backoff.ts";
import { type Cache, type CacheScope, InformerCache } from "./cache.ts";
import { type Client, KubeClient, RestMapper } from "./client.ts";
import { Controller, type ControllerOptions, DEFAULT_RECONCILE_TIMEOUT_MS } from "./controller.ts";
import { ApiEventRecorder, type EventRecorder } from "./events.ts";
import { type ListeningServer, serve } from "./http.ts";
import type { ClusterAccess } from "./kubeconfig.ts";
import { LeaderElector } from "./leaderelection.ts";
import { apiserverListWatch } from "./listwatch.ts";
import { RuntimeMetrics, resourceOfPath } from "./metrics.ts";
import { RestClient } from "./rest.ts";
import type { GroupVersionKind, KubeObject } from "./types.ts";

/** Leader election settings; client-go's defaults. */
export interface LeaderElectionOptions {
  /** Namespace of the Lease (usually the operator's own). */
  namespace: string;
  /** Name of the Lease, shared by all replicas. */
  name: string;
  /** This replica's unique identity (pod name + random suffix). */
  identity: string;
  /** 15 by default. */
  leaseDurationSeconds?: number;
  /** 10 by default. */
  renewDeadlineSeconds?: number;
  /** 2 by default. */
  retryPeriodSeconds?: number;
}

/** Everything a manager runs with. Only cluster, logger and controllers are required. */
export interface ManagerOptions {
  /** The apiserver and the credentials to use (kubeconfig.ts). */
  cluster: ClusterAccess;
  logger: Logger;
  controllers: ControllerOptions[];
  /** Port of GET /metrics; 8080 by default, 0 for a free port. */
  metricsPort?: number;
  /** Port of GET /healthz and /readyz; 8081 by default, 0 for a free port. */
  healthPort?: number;
  /** Address both servers bind; all interfaces by default (the kubelet and Prometheus connect from outside). */
  bindAddress?: string;
  /** Without it this replica always leads (a single replica, or tests). */
  leaderElection?: LeaderElectionOptions;
  /** Clock of ReconcileContext.now and of Events; wall clock by default. Leader election always uses the real clocks. */
  now?(): Date;
  /** Kinds to cache although no controller watches them (e.g. Secrets a reconciler reads). */
  cacheKinds?: GroupVersionKind[];
  /** Watch only these namespaces (a namespace-scoped operator, its roles bound there); all by default. */
  namespaces?: readonly string[];
  /** Kinds cached only in part: label selectors by gvkString (see CacheScope.selectors). */
  cacheSelectors?: CacheScope["selectors"];
  /** Kinds the cluster may not serve, by gvkString (CacheScope.optional). */
  optionalKinds?: CacheScope["optional"];
  /** Objects of kinds cached in part that other objects point at, cached by name (InformerCache.cacheReferenced). */
  cacheReferences?: Array<{ from: GroupVersionKind; to: GroupVersionKind; names(obj: KubeObject): string[] }>;
  /**
   * Longest stop() (or a lost Lease) waits for in-flight reconciles before it abandons them; 10 s by default.
   * Keep the pod's terminationGracePeriodSeconds above it.
   */
  gracefulShutdownTimeoutMs?: number;
  /**
   * Longest one reconcile may run before it is abandoned and retried with backoff (see
   * ControllerOptions.reconcileTimeoutMs, which overrides it per controller); 30 s by default.
   */
  reconcileTimeoutMs?: number;
  /** reportingController of Events; `wicked.dev/operator` by default. */
  eventSource?: string;
  /** Backoff of informers' relists and reconnects; client-go's 800 ms → 30 s by default. */
  watchBackoff?: BackoffOptions;
}

/** A running (or runnable) manager. */
export interface Manager {
  /**
   * Starts the servers, the informers and leader election, and resolves once the servers listen. The
   * controllers begin when the cache has synced and this replica leads; /readyz says when the cache synced.
   */
  start(): Promise<void>;
  /**
   * Stops gracefully: controllers take no new keys and in-flight reconciles may finish; those still running
   * after gracefulShutdownTimeoutMs are abandoned (their signal aborts). Then the Lease is released, the
   * watches closed and the servers shut.
   */
  stop(): Promise<void>;
  /** Base URL of the metrics server, e.g. `http://127.0.0.1:8080`; available after start. */
  readonly metricsUrl: string;
  /** Base URL of the health server; available after start. */
  readonly healthUrl: string;
  /** True while this replica leads (always, without leader election, once started). */
  readonly isLeader: boolean;
  /** The Prometheus registry served on /metrics. */
  readonly registry: Registry;
  /** The client controllers write with. */
  readonly client: Client;
  /** The shared informer cache. */
  readonly cache: Cache;
}

/** Creates a manager; nothing runs until start(). */
export function createManager(opts: ManagerOptions): Manager {
  return new RuntimeManager(opts);
}

class RuntimeManager implements Manager {
  readonly client: Client;
  readonly cache: InformerCache;
  private readonly metrics = new RuntimeMetrics();
  private readonly controllers: Controller[];
  private readonly elector: LeaderElector | undefined;
  private readonly log: Logger;
  private readonly stopSignal = new AbortController();
  private servers: { metrics: ListeningServer; health: ListeningServer } | undefined;
  private leading = false;
  private state: "new" | "started" | "stopped" = "new";

  constructor(private readonly opts: ManagerOptions) {
    this.log = opts.logger;
    const names = new Set<string>();
    for (const c of opts.controllers) {
      if (names.has(c.name))
        throw new Error(`Two controllers are named ${c.name}; names label metrics and must be unique`);
      names.add(c.name);
    }
    const host = new URL(opts.cluster.server).host;
    const rest = new RestClient(opts.cluster, (method, code, path) => {
      this.metrics.restRequests.inc({ code: code === 0 ? "<error>" : String(code), method, host });
      if (method !== "GET" && code >= 200 && code < 300)
        this.metrics.apiserverWrites.inc({ resource: resourceOfPath(path) });
    });
    const mapper = new RestMapper(rest);
    this.client = new KubeClient(rest, mapper);
    this.cache = new InformerCache(
      (gvk, source) => {
        mapper.register(gvk);
        return {
          ...apiserverListWatch(rest, gvk, source),
          logger: this.log.child({ informer: gvk.kind, ...source }),
          backoff: opts.watchBackoff ?? DEFAULT_WATCH_BACKOFF,
        };
      },
      {
        namespaces: opts.namespaces ?? [],
        selectors: opts.cacheSelectors ?? {},
        optional: opts.optionalKinds ?? [],
      },
    );
    for (const gvk of opts.cacheKinds ?? []) this.cache.informerFor(gvk);
    for (const { from, to, names } of opts.cacheReferences ?? []) this.cache.cacheReferenced(from, to, names);
    const identity = opts.leaderElection?.identity ?? hostname();
    const now = opts.now ?? (() => new Date());
    const recorder: EventRecorder = new ApiEventRecorder({
      client: this.client,
      logger: this.log,
      reportingController: opts.eventSource ?? "wicked.dev/operator",
      reportingInstance: identity,
      now,
    });
    this.controllers = opts.controllers.map(
      (c) =>
        new Controller(c, {
          client: this.client,
          cache: this.cache,
          recorder,
          logger: this.log,
          metrics: this.metrics,
          now,
          reconcileTimeoutMs: opts.reconcileTimeoutMs ?? DEFAULT_RECONCILE_TIMEOUT_MS,
        }),
    );
    const le = opts.leaderElection;
    if (le) {
      this.metrics.leaderStatus.set({ name: le.name }, 0);
      this.elector = new LeaderElector({
        ...le,
        client: this.client,
        logger: this.log,
        onStartedLeading: () => {
          this.metrics.leaderStatus.set({ name: le.name }, 1);
          this.becomeLeader();
        },
        onStoppedLeading: () => {
          this.metrics.leaderStatus.set({ name: le.name }, 0);
          this.leading = false;
          // Stop at once: another replica may already be reconciling.
          for (const c of this.controllers) void c.halt({ abort: true, timeoutMs: this.shutdownTimeoutMs });
        },
      });
    }
  }

  get registry(): Registry {
    return this.metrics.registry;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  get metricsUrl(): string {
    if (!this.servers) throw new Error("The manager has not started; metricsUrl is known once it listens");
    return this.servers.metrics.url;
  }

  get healthUrl(): string {
    if (!this.servers) throw new Error("The manager has not started; healthUrl is known once it listens");
    return this.servers.health.url;
  }

  async start(): Promise<void> {
    if (this.state !== "new") throw new Error("A manager starts once; create a new one");
    this.state = "started";
    const bind = this.opts.bindAddress;
    const metrics = await serve(
      {
        "/metrics": async () => ({
          status: 200,
          contentType: this.metrics.registry.contentType,
          body: await this.metrics.registry.metrics(),
        }),
      },
      this.opts.metricsPort ?? 8080,
      bind,
    );
    const health = await serve(
      {
        "/healthz": () => ({ status: 200, contentType: "text/plain", body: "ok\n" }),
        "/readyz": () =>
          this.cache.hasSynced
            ? { status: 200, contentType: "text/plain", body: "ok\n" }
            : { status: 503, contentType: "text/plain", body: "informers have not synced\n" },
      },
      this.opts.healthPort ?? 8081,
      bind,
    ).catch(async (err: unknown) => {
      await metrics.close();
      throw err;
    });
    this.servers = { metrics, health };
    this.cache.start();
    if (this.elector) this.elector.start();
    else this.becomeLeader();
    this.log.info(
      { metrics: metrics.url, health: health.url, controllers: this.controllers.map((c) => c.options.name) },
      "Started manager",
    );
  }

  async stop(): Promise<void> {
    if (this.state !== "started") return;
    this.state = "stopped";
    this.stopSignal.abort(new Error("The manager is stopping"));
    await Promise.all(
      this.controllers.map((c) => c.halt({ abort: false, timeoutMs: this.shutdownTimeoutMs })),
    );
    this.leading = false;
    await this.elector?.stop();
    await this.cache.stop();
    await Promise.all([this.servers?.metrics.close(), this.servers?.health.close()]);
    this.log.info("Stopped manager");
  }

  private get shutdownTimeoutMs(): number {
    return this.opts.gracefulShutdownTimeoutMs ?? 10_000;
  }

  /** Starts the controllers once the cache has synced, unless leadership or the manager ended meanwhile. */
  private becomeLeader(): void {
    this.leading = true;
    this.cache.waitForSync(this.stopSignal.signal).then(
      () => {
        if (!this.leading || this.state !== "started") return;
        for (const c of this.controllers) c.start();
      },
      () => {
        // The manager stopped before the cache synced: there is nothing to start.
      },
    );
  }
}
