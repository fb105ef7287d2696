/**
 * A controller: turns informer events of its primary kind, its owned kinds and watched kinds into keys on a
 * work queue, and runs reconcile on them with a bounded number of workers, retrying failures with backoff.
 * Level-triggered: reconcile gets a key, never the event.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { BackoffOptions } from "./backoff.ts";
import type { Cache, InformerCache } from "./cache.ts";
import type { Client } from "./client.ts";
import { isConflict } from "./errors.ts";
import type { EventRecorder } from "./events.ts";
import type { InformerHandler } from "./informer.ts";
import type { QueueProbe, ReconcileOutcome, RuntimeMetrics } from "./metrics.ts";
import { controllerOwnerKey } from "./owners.ts";
import {
  type GroupVersionKind,
  type KubeObject,
  keyString,
  type ObjectKey,
  objectKey,
  parseKey,
  type Result,
  TerminalError,
} from "./types.ts";
import { WorkQueue } from "./workqueue.ts";

/** Everything a reconcile may use; built per reconcile. */
export interface ReconcileContext {
  /** Writes (and live reads). */
  client: Client;
  /** Reads from the informers. */
  cache: Cache;
  /** Child logger with controller, controllerKind, namespace, name and reconcileID. */
  log: Logger;
  recorder: EventRecorder;
  /** The manager's clock, for lastTransitionTime and friends. */
  now(): Date;
  /**
   * Aborted when this replica must stop reconciling at once (it lost the Lease, or the graceful shutdown
   * timed out). Pass it to long waits; writes after it aborted may race with the new leader.
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
  /** Workers, i.e. keys reconciled at the same time; 1 by default. */
  concurrency?: number;
  /** Every primary is reconciled at least this often (±10 %) even without changes; 10 hours by default. */
  resyncPeriodMs?: number;
  /** Backoff of failed keys; controller-runtime's 5 ms → 1000 s by default. */
  backoff?: BackoffOptions;
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
}

interface Term {
  queue: WorkQueue;
  abort: AbortController;
  resync: NodeJS.Timeout | undefined;
}

const DEFAULT_RESYNC_MS = 10 * 60 * 60 * 1000;

/**
 * Runs one ControllerOptions. Informer handlers are registered once; keys are only queued while the
 * controller runs (between start and halt), i.e. while this replica leads.
 */
export class Controller implements QueueProbe {
  private term: Term | undefined;
  /**
   * Resolves when the previous term's in-flight reconciles are done (or abandoned after the timeout); a new
   * term's workers wait for it, so two terms never process a key at the same time.
   */
  private previous: Promise<void> = Promise.resolve();
  private readonly log: Logger;
  private readonly concurrency: number;

  constructor(
    readonly options: ControllerOptions,
    private readonly deps: ControllerDeps,
  ) {
    this.concurrency = Math.max(1, options.concurrency ?? 1);
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
      cache.informerFor(watch.gvk).addHandler(this.handler((obj) => watch.map(obj, cache)));
    }
  }

  private handler(map: (obj: KubeObject) => ObjectKey[]): InformerHandler {
    const enqueue = (obj: KubeObject) => {
      if (!this.term) return;
      for (const key of map(obj)) this.enqueue(key);
    };
    return {
      onAdd: enqueue,
      onUpdate: (oldObj, newObj) => {
        if (!this.term) return;
        const keys = new Map([...map(oldObj), ...map(newObj)].map((k) => [keyString(k), k]));
        for (const key of keys.values()) this.enqueue(key);
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

  /** Runs reconcile for one key and requeues it as its outcome says. Never throws. */
  private async reconcileOne(term: Term, key: string): Promise<void> {
    const { metrics } = this.deps;
    const controller = this.options.name;
    const kind = this.options.for.kind;
    const objKey = parseKey(key);
    const log = this.log.child({ namespace: objKey.namespace, name: objKey.name, reconcileID: randomUUID() });
    const ctx: ReconcileContext = {
      client: this.deps.client,
      cache: this.deps.cache,
      log,
      recorder: this.deps.recorder,
      now: this.deps.now,
      signal: term.abort.signal,
    };
    const started = performance.now();
    metrics.activeWorkers.inc({ controller });
    let outcome: ReconcileOutcome;
    try {
      const result = await this.options.reconcile(objKey, ctx);
      if (result.requeueAfterMs === 0) {
        term.queue.addRateLimited(key);
        outcome = "requeue";
      } else if (result.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
        term.queue.forget(key);
        term.queue.addAfter(key, result.requeueAfterMs);
        outcome = "requeue_after";
      } else {
        term.queue.forget(key);
        outcome = "success";
      }
      log.debug({ requeueAfterMs: result.requeueAfterMs }, `Reconciled ${kind}`);
    } catch (err) {
      if (isConflict(err)) {
        // A write based on a stale read (the cache had not yet seen the latest change): read again.
        term.queue.addRateLimited(key);
        outcome = "requeue";
        log.debug({ err }, `Requeued ${kind}: it changed since it was read`);
      } else if (err instanceof TerminalError) {
        outcome = "error";
        metrics.reconcileErrors.inc({ controller });
        metrics.terminalReconcileErrors.inc({ controller });
        term.queue.forget(key);
        log.error({ err }, `Failed to reconcile ${kind} terminally; waiting for a change before retrying`);
      } else {
        outcome = "error";
        metrics.reconcileErrors.inc({ controller });
        term.queue.addRateLimited(key);
        log.error(
          { err, retries: term.queue.retries(key) },
          `Failed to reconcile ${kind}; retrying with backoff`,
        );
      }
    } finally {
      metrics.activeWorkers.dec({ controller });
      metrics.reconcileTime.observe({ controller }, (performance.now() - started) / 1000);
    }
    metrics.reconcileTotal.inc({ controller, result: outcome });
  }
}
