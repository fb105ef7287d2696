/**
 * A controller: turns informer events of its primary kind, its owned kinds and watched kinds into keys on a
 * work queue, and runs reconcile on them with a bounded number of workers, retrying failures with backoff.
 * Level-triggered: reconcile gets a key, never the event. A reconcile that runs past its time limit is
 * abandoned, so one hang can neither hold a worker for good nor keep the process from stopping.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { abortableClient } from "./abortable-client.ts";
import type { BackoffOptions } from "./backoff.ts";
import type { Cache, IndexSpec, InformerCache } from "./cache.ts";
import type { Client } from "./client.ts";
import { withDeadline } from "./deadline.ts";
import { isConflict } from "./errors.ts";
import type { EventRecorder } from "./events.ts";
import type { InformerHandler } from "./informer.ts";
import type { KeySource } from "./key-source.ts";
import type { QueueProbe, ReconcileOutcome, RuntimeMetrics } from "./metrics.ts";
import { controllerOwnerKey } from "./owners.ts";
import {
  type GroupVersionKind,
  type KubeObject,
  keyString,
  type ObjectKey,
  objectKey,
  parseKey,
  ReconcileTimeoutError,
  type Result,
  TerminalError,
} from "./types.ts";
import { WorkQueue } from "./workqueue.ts";

/** Everything a reconcile may use; built per reconcile. */
export interface ReconcileContext {
  /** Writes (and live reads); every call fails with `signal`'s reason once it aborted. */
  client: Client;
  /** Reads from the informers. */
  cache: Cache;
  /** Child logger with controller, controllerKind, namespace, name and reconcileID. */
  log: Logger;
  recorder: EventRecorder;
  /** The manager's clock, for lastTransitionTime and friends. */
  now(): Date;
  /**
   * Aborted when this reconcile must stop at once: it ran past its time limit (the reason is a
   * ReconcileTimeoutError, and a retry of the key may already run), this replica lost the Lease, or the
   * graceful shutdown timed out. `client` honours it by itself; pass it to fetch and other long waits.
   */
  signal: AbortSignal;
}

/** A watched kind whose events map to keys of the primary kind by a function. */
export interface WatchSpec {
  gvk: GroupVersionKind;
  /**
   * Keys of the primary objects an event of `obj` concerns; called for the old and new object of an update.
   * The cache lets a mapper find primaries that do not name themselves in the object (e.g. "the portal of
   * this namespace").
   */
  map(obj: KubeObject, cache: Cache): ObjectKey[];
  /**
   * Whether an update matters to the primaries (creations and deletions always do); every update by default.
   * A parent's status write must not queue all its children again (see predicates.ts).
   */
  relevant?(oldObj: KubeObject, newObj: KubeObject): boolean;
  /**
   * Queue the keys this long after the event, so that a burst (a thousand Subscriptions applied at once)
   * becomes one reconcile of each primary it maps to; at once by default. A function is asked at each event
   * (a reconciler whose cost grows with its primary can wait longer the longer it took last).
   */
  batchDelayMs?: number | (() => number);
}

/** What a controller reconciles and how. */
export interface ControllerOptions {
  /** Unique name; the `controller` label of metrics and logs (e.g. `apiportal`). */
  name: string;
  /** The primary kind: each of its objects is one key. */
  for: GroupVersionKind;
  /** Kinds whose objects the primary kind controls (ownerReference with controller: true). */
  owns?: GroupVersionKind[];
  /** Other kinds that affect primaries, with how to map them. */
  watches?: WatchSpec[];
  /** Indexes of the cache this controller's mappers read (Cache.byIndex); declared before its watches. */
  indexes?: IndexSpec[];
  /** Keys handed over by other parts of the process (another controller's results). */
  sources?: KeySource[];
  /** Workers, i.e. keys reconciled at the same time; 1 by default. */
  concurrency?: number;
  /** Every primary is reconciled at least this often (±10 %) even without changes; 10 hours by default. */
  resyncPeriodMs?: number;
  /** Backoff of failed keys; controller-runtime's 5 ms → 1000 s by default. */
  backoff?: BackoffOptions;
  /**
   * Longest one reconcile may run, in ms; the manager's reconcileTimeoutMs by default. Past it the reconcile
   * is abandoned: its signal aborts, its worker takes the next key, its key is retried with backoff (even if
   * the abandoned reconcile is still running: a hang must not block its object for good), and whatever it
   * returns or throws later is ignored.
   */
  reconcileTimeoutMs?: number;
  /** Brings the world to the desired state of the object with this key (which may no longer exist). */
  reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<Result>;
}

/** What a controller needs from its manager. */
export interface ControllerDeps {
  client: Client;
  cache: InformerCache;
  recorder: EventRecorder;
  logger: Logger;
  metrics: RuntimeMetrics;
  now(): Date;
  /** The limit of a reconcile whose options set none; DEFAULT_RECONCILE_TIMEOUT_MS when unset. */
  reconcileTimeoutMs?: number;
}

interface Term {
  queue: WorkQueue;
  abort: AbortController;
  resync: NodeJS.Timeout | undefined;
}

const DEFAULT_RESYNC_MS = 10 * 60 * 60 * 1000;

/** How long a reconcile may run before it is abandoned, unless the manager or the controller says otherwise. */
export const DEFAULT_RECONCILE_TIMEOUT_MS = 30_000;

/**
 * Runs one ControllerOptions. Informer handlers are registered once; keys are only queued while the
 * controller runs (between start and halt), i.e. while this replica leads.
 */
export class Controller implements QueueProbe {
  private term: Term | undefined;
  /**
   * Resolves when the previous term's in-flight reconciles are done (or abandoned after the timeout); a new
   * term's workers wait for it, so two terms never process a key at the same time (abandoned reconciles
   * aside, whose client refuses every call).
   */
  private previous: Promise<void> = Promise.resolve();
  private readonly log: Logger;
  private readonly concurrency: number;
  private readonly timeoutMs: number;

  constructor(
    readonly options: ControllerOptions,
    private readonly deps: ControllerDeps,
  ) {
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    this.timeoutMs = options.reconcileTimeoutMs ?? deps.reconcileTimeoutMs ?? DEFAULT_RECONCILE_TIMEOUT_MS;
    if (!(this.timeoutMs > 0))
      throw new RangeError(
        `The reconcile timeout of ${options.name} must be above 0 ms, not ${this.timeoutMs}`,
      );
    this.log = deps.logger.child({ controller: options.name, controllerKind: options.for.kind });
    deps.metrics.registerController(options.name, this.concurrency);
    this.register();
  }

  /** True between start and halt. */
  get running(): boolean {
    return this.term !== undefined;
  }

  /** Keys waiting in the current term's queue. */
  get queueLength(): number {
    return this.term?.queue.length ?? 0;
  }

  /**
   * Starts a term: queues every cached primary (so all are reconciled once), then runs the workers and the
   * periodic resync. Call when the cache has synced and this replica leads.
   */
  start(): void {
    if (this.term) return;
    const queue = new WorkQueue({
      backoff: this.options.backoff,
      metrics: this.deps.metrics.forQueue(this.options.name, this),
    });
    const term: Term = { queue, abort: new AbortController(), resync: undefined };
    this.term = term;
    this.enqueueAll();
    this.scheduleResync(term);
    void this.previous.then(() => {
      for (let i = 0; i < this.concurrency; i++) void this.work(term);
    });
    this.log.info({ workers: this.concurrency }, "Started workers");
  }

  /**
   * Ends the term: no new keys are taken; `abort` also aborts the in-flight reconciles' signal at once (lost
   * Lease). Resolves when in-flight reconciles finished, or after timeoutMs (then their signal is aborted and
   * they are abandoned).
   */
  async halt(opts: { abort: boolean; timeoutMs: number }): Promise<void> {
    const term = this.term;
    if (!term) return this.previous;
    this.term = undefined;
    clearTimeout(term.resync);
    term.queue.shutDown();
    if (opts.abort) term.abort.abort(new Error("This replica stopped leading"));
    this.previous = this.drain(term, opts.timeoutMs);
    return this.previous;
  }

  private async drain(term: Term, timeoutMs: number): Promise<void> {
    const drained = await term.queue.drain(timeoutMs);
    if (!drained) {
      this.log.warn(
        { inFlight: term.queue.inFlight, timeoutMs },
        `Stopped waiting for in-flight reconciles of ${this.options.for.kind}`,
      );
      term.abort.abort(new Error("The graceful shutdown timed out"));
    }
    this.log.info("Stopped workers");
  }

  /** Queues a key now (ignored while not running). */
  enqueue(key: ObjectKey): void {
    this.term?.queue.add(keyString(key));
  }

  unfinishedWorkSeconds(): number {
    return this.term?.queue.unfinishedWorkSeconds() ?? 0;
  }

  longestRunningProcessorSeconds(): number {
    return this.term?.queue.longestRunningProcessorSeconds() ?? 0;
  }

  private register(): void {
    const { cache } = this.deps;
    const forKind = this.options.for;
    for (const index of this.options.indexes ?? []) cache.addIndex(index);
    cache.informerFor(forKind).addHandler(this.handler((obj) => [objectKey(obj)]));
    for (const owned of this.options.owns ?? []) {
      cache.informerFor(owned).addHandler(
        this.handler((obj) => {
          const owner = controllerOwnerKey(obj, forKind);
          return owner ? [owner] : [];
        }),
      );
    }
    for (const watch of this.options.watches ?? []) {
      cache
        .informerFor(watch.gvk)
        .addHandler(this.handler((obj) => watch.map(obj, cache), watch.relevant, watch.batchDelayMs));
    }
    for (const source of this.options.sources ?? []) source.subscribe((key) => this.enqueue(key));
  }

  private handler(
    map: (obj: KubeObject) => ObjectKey[],
    relevant?: (oldObj: KubeObject, newObj: KubeObject) => boolean,
    batchDelayMs: WatchSpec["batchDelayMs"] = 0,
  ): InformerHandler {
    const add = (key: ObjectKey) => {
      const delayMs = typeof batchDelayMs === "function" ? batchDelayMs() : batchDelayMs;
      if (delayMs > 0) this.term?.queue.addAfter(keyString(key), delayMs);
      else this.enqueue(key);
    };
    const enqueue = (obj: KubeObject) => {
      if (!this.term) return;
      for (const key of map(obj)) add(key);
    };
    return {
      onAdd: enqueue,
      onUpdate: (oldObj, newObj) => {
        if (!this.term || (relevant && !relevant(oldObj, newObj))) return;
        const keys = new Map([...map(oldObj), ...map(newObj)].map((k) => [keyString(k), k]));
        for (const key of keys.values()) add(key);
      },
      onDelete: enqueue,
    };
  }

  private enqueueAll(): void {
    for (const obj of this.deps.cache.informerFor(this.options.for).list()) this.enqueue(objectKey(obj));
  }

  private scheduleResync(term: Term): void {
    const period = this.options.resyncPeriodMs ?? DEFAULT_RESYNC_MS;
    const delay = period * (0.9 + 0.2 * Math.random());
    term.resync = setTimeout(() => {
      if (this.term !== term) return;
      this.enqueueAll();
      this.scheduleResync(term);
    }, delay);
    term.resync.unref();
  }

  private async work(term: Term): Promise<void> {
    for (;;) {
      const key = await term.queue.get();
      if (key === undefined) return;
      try {
        await this.reconcileOne(term, key);
      } finally {
        term.queue.done(key);
      }
    }
  }

  /**
   * Runs reconcile for one key within the time limit and requeues it as its outcome says. Never throws, and
   * returns at the limit even if the reconcile does not.
   */
  private async reconcileOne(term: Term, key: string): Promise<void> {
    const { metrics } = this.deps;
    const controller = this.options.name;
    const objKey = parseKey(key);
    const log = this.log.child({ namespace: objKey.namespace, name: objKey.name, reconcileID: randomUUID() });
    const started = performance.now();
    metrics.activeWorkers.inc({ controller });
    const settled = await withDeadline(
      (signal) => this.options.reconcile(objKey, this.context(log, signal)),
      {
        timeoutMs: this.timeoutMs,
        reason: () => new ReconcileTimeoutError(this.options.for.kind, key, this.timeoutMs),
        signal: term.abort.signal,
      },
    );
    metrics.activeWorkers.dec({ controller });
    metrics.reconcileTime.observe({ controller }, (performance.now() - started) / 1000);
    let outcome: ReconcileOutcome;
    if (settled.status === "fulfilled") outcome = this.succeeded(term, key, settled.value, log);
    else if (settled.status === "rejected") outcome = this.failed(term, key, settled.reason, log);
    else outcome = this.timedOut(term, key, settled.settled, log);
    metrics.reconcileTotal.inc({ controller, result: outcome });
  }

  private context(log: Logger, signal: AbortSignal): ReconcileContext {
    return {
      client: abortableClient(this.deps.client, signal),
      cache: this.deps.cache,
      log,
      recorder: this.deps.recorder,
      now: this.deps.now,
      signal,
    };
  }

  private succeeded(term: Term, key: string, result: Result, log: Logger): ReconcileOutcome {
    log.debug({ requeueAfterMs: result.requeueAfterMs }, `Reconciled ${this.options.for.kind}`);
    if (result.requeueAfterMs === 0) {
      term.queue.addRateLimited(key);
      return "requeue";
    }
    term.queue.forget(key);
    if (result.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
      term.queue.addAfter(key, result.requeueAfterMs);
      return "requeue_after";
    }
    return "success";
  }

  private failed(term: Term, key: string, err: unknown, log: Logger): ReconcileOutcome {
    const { metrics } = this.deps;
    const controller = this.options.name;
    const kind = this.options.for.kind;
    if (isConflict(err)) {
      // A write based on a stale read (the cache had not yet seen the latest change): read again.
      term.queue.addRateLimited(key);
      log.debug({ err }, `Requeued ${kind}: it changed since it was read`);
      return "requeue";
    }
    metrics.reconcileErrors.inc({ controller });
    if (err instanceof TerminalError) {
      metrics.terminalReconcileErrors.inc({ controller });
      term.queue.forget(key);
      log.error({ err }, `Failed to reconcile ${kind} terminally; waiting for a change before retrying`);
      return "error";
    }
    term.queue.addRateLimited(key);
    log.error(
      { err, retries: term.queue.retries(key) },
      `Failed to reconcile ${kind}; retrying with backoff`,
    );
    return "error";
  }

  /**
   * The reconcile ran past its limit: counted as an error and retried with backoff like one. The abandoned
   * reconcile is only watched until it ends (the abandoned gauge); its result never reaches the queue, so it
   * cannot mark the key done a second time or reset the backoff of a newer attempt.
   */
  private timedOut(term: Term, key: string, settled: Promise<void>, log: Logger): ReconcileOutcome {
    const { metrics } = this.deps;
    const controller = this.options.name;
    const kind = this.options.for.kind;
    metrics.reconcileErrors.inc({ controller });
    metrics.reconcileTimeouts.inc({ controller });
    term.queue.addRateLimited(key);
    log.error(
      { timeoutMs: this.timeoutMs, retries: term.queue.retries(key) },
      `Abandoned the reconcile of ${kind} ${key}: it ran past its limit of ${this.timeoutMs / 1000} s; retrying with backoff`,
    );
    metrics.abandonedReconciles.inc({ controller });
    const abandonedAt = performance.now();
    void settled.then(() => {
      metrics.abandonedReconciles.dec({ controller });
      log.info(
        { lateBySeconds: (performance.now() - abandonedAt) / 1000 },
        `Abandoned reconcile of ${kind} ${key} ended; ignored its result`,
      );
    });
    return "error";
  }
}
