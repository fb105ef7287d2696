/**
 * A work queue with client-go's semantics: a key is queued at most once, is never handed to two workers at
 * the same time, and a key added while it is being processed is processed again after `done`. Failed keys
 * come back after a per-key capped exponential backoff with jitter; keys can be delayed (requeueAfter).
 */
import { type BackoffOptions, DEFAULT_RECONCILE_BACKOFF, ItemBackoff } from "./backoff.ts";
import { NO_QUEUE_METRICS, type QueueMetrics, type QueueProbe } from "./metrics.ts";

/** Options of a WorkQueue; all have defaults. */
export interface WorkQueueOptions {
  /** Backoff of addRateLimited; controller-runtime's 5 ms → 1000 s by default. */
  backoff?: BackoffOptions;
  /** Random source of the backoff jitter, for tests. */
  random?: () => number;
  /** Where to report workqueue_* metrics. */
  metrics?: QueueMetrics;
  /** Monotonic clock in ms for the duration metrics; performance.now by default. */
  now?: () => number;
}

/** A de-duplicating, rate-limited, delaying queue of string keys, processed by any number of workers. */
export class WorkQueue implements QueueProbe {
  private readonly queue: string[] = [];
  /** Keys that need processing: queued, or added again while being processed. */
  private readonly dirty = new Set<string>();
  /** Keys handed out by get and not yet done, with when they were handed out. */
  private readonly processing = new Map<string, number>();
  /** When each queued key entered the queue, for workqueue_queue_duration_seconds. */
  private readonly enqueuedAt = new Map<string, number>();
  private readonly delayed = new Map<string, { readyAt: number; timer: NodeJS.Timeout }>();
  private readonly waiters: Array<(key: string | undefined) => void> = [];
  private readonly drainWaiters: Array<() => void> = [];
  private readonly backoff: ItemBackoff;
  private readonly metrics: QueueMetrics;
  private readonly now: () => number;
  private stopped = false;
  private dispatching = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.backoff = new ItemBackoff(opts.backoff ?? DEFAULT_RECONCILE_BACKOFF, opts.random);
    this.metrics = opts.metrics ?? NO_QUEUE_METRICS;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Number of keys waiting to be handed out (not counting delayed or in-process keys). */
  get length(): number {
    return this.queue.length;
  }

  /** True once shutDown was called: adds are ignored and get returns undefined. */
  get shuttingDown(): boolean {
    return this.stopped;
  }

  /** Number of keys handed out and not yet done. */
  get inFlight(): number {
    return this.processing.size;
  }

  /** Queues key unless it is already waiting; a key being processed is queued again when it is done. */
  add(key: string): void {
    if (this.stopped || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.metrics.added();
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /** Queues key after `ms`; of several delays for one key the earliest wins. `ms <= 0` adds now. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const readyAt = this.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.readyAt <= readyAt) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.delayed.set(key, { readyAt, timer });
  }

  /** Queues key after its backoff: one more failure, so each call waits about twice as long, up to the cap. */
  addRateLimited(key: string): void {
    if (this.stopped) return;
    this.metrics.retried();
    this.addAfter(key, this.backoff.when(key));
  }

  /** Resets key's backoff after a success. */
  forget(key: string): void {
    this.backoff.forget(key);
  }

  /** How many times in a row key was rate-limited since its last forget. */
  retries(key: string): number {
    return this.backoff.retries(key);
  }

  /**
   * The next key to process, waiting until there is one; undefined once the queue shuts down. The caller
   * owns the key until it calls done(key).
   */
  get(): Promise<string | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) return Promise.resolve(this.handOut(key));
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks key as processed; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    const started = this.processing.get(key);
    if (started === undefined) return;
    this.processing.delete(key);
    this.metrics.worked((this.now() - started) / 1000);
    if (this.stopped) {
      this.dirty.delete(key);
      if (this.processing.size === 0) for (const resolve of this.drainWaiters.splice(0)) resolve();
      return;
    }
    if (this.dirty.has(key)) this.push(key);
  }

  /**
   * Stops the queue: adds are ignored, waiting and future gets return undefined, queued and delayed keys are
   * dropped. Keys in process stay owned by their workers until done (see drain).
   */
  shutDown(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.queue.length = 0;
    this.enqueuedAt.clear();
    for (const key of [...this.dirty]) if (!this.processing.has(key)) this.dirty.delete(key);
    this.metrics.depth(0);
    for (const resolve of this.waiters.splice(0)) resolve(undefined);
  }

  /**
   * Resolves true once every key handed out is done, or false after `timeoutMs` if some are still in
   * process. Meant for after shutDown: the graceful-shutdown wait for in-flight reconciles.
   */
  drain(timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    if (this.processing.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = Number.isFinite(timeoutMs) ? setTimeout(() => resolve(false), timeoutMs) : undefined;
      this.drainWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** shutDown, then drain. */
  shutDownWithDrain(timeoutMs?: number): Promise<boolean> {
    this.shutDown();
    return this.drain(timeoutMs);
  }

  unfinishedWorkSeconds(): number {
    const now = this.now();
    let total = 0;
    for (const started of this.processing.values()) total += now - started;
    return total / 1000;
  }

  longestRunningProcessorSeconds(): number {
    const now = this.now();
    let longest = 0;
    for (const started of this.processing.values()) longest = Math.max(longest, now - started);
    return longest / 1000;
  }

  private push(key: string): void {
    this.enqueuedAt.set(key, this.now());
    this.queue.push(key);
    this.metrics.depth(this.queue.length);
    if (this.waiters.length > 0 && !this.dispatching) {
      // Hand keys to waiting workers after the current synchronous burst of adds, so that adding a key twice
      // in a row (old and new object of an update) queues it once instead of processing it twice.
      this.dispatching = true;
      queueMicrotask(() => this.dispatch());
    }
  }

  private dispatch(): void {
    this.dispatching = false;
    while (this.waiters.length > 0 && this.queue.length > 0 && !this.stopped) {
      const waiter = this.waiters.shift();
      const key = this.queue.shift();
      if (waiter && key !== undefined) waiter(this.handOut(key));
    }
  }

  private handOut(key: string): string {
    const now = this.now();
    this.metrics.depth(this.queue.length);
    this.metrics.queued((now - (this.enqueuedAt.get(key) ?? now)) / 1000);
    this.enqueuedAt.delete(key);
    this.dirty.delete(key);
    this.processing.set(key, now);
    return key;
  }
}
