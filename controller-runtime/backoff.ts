/**
 * Capped exponential backoff with jitter, as pure functions, for failed reconciles and for reconnecting
 * watches. Jitter spreads retries of many keys or replicas so they do not hit the apiserver in lockstep.
 */

/** Shape of a backoff: delay = min(capMs, baseMs · 2^attempt), then reduced by up to `jitter` of itself. */
export interface BackoffOptions {
  /** Delay of the first retry before jitter, in ms. */
  baseMs: number;
  /** Largest delay, in ms; reached after log2(capMs / baseMs) failures. */
  capMs: number;
  /** Fraction in [0, 1]: a delay d becomes a random value in [d · (1 − jitter), d]. 0 disables jitter. */
  jitter: number;
}

/** controller-runtime's per-item default (5 ms doubling up to 1000 s), with a little jitter. */
export const DEFAULT_RECONCILE_BACKOFF: BackoffOptions = { baseMs: 5, capMs: 1_000_000, jitter: 0.1 };

/** client-go's reflector backoff for re-listing and re-watching (800 ms doubling up to 30 s). */
export const DEFAULT_WATCH_BACKOFF: BackoffOptions = { baseMs: 800, capMs: 30_000, jitter: 0.5 };

/**
 * The delay before retry number `attempt` (0 for the first retry). Never above capMs and never below
 * (1 − jitter) of the un-jittered delay. `random` returns values in [0, 1) like Math.random.
 */
/** Waits `ms`, or resolves at once when `signal` aborts: a loop's stop cuts its wait short. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

export function backoffDelay(
  attempt: number,
  opts: BackoffOptions,
  random: () => number = Math.random,
): number {
  const exponential = opts.baseMs * 2 ** Math.max(0, attempt);
  const capped = Math.min(opts.capMs, exponential);
  const jitter = Math.min(1, Math.max(0, opts.jitter));
  return capped * (1 - jitter * random());
}

/**
 * Per-key failure counting: each `when(key)` is one more failure and returns its delay; `forget(key)` after a
 * success starts the key over at baseMs. The work queue's rate limiter.
 */
export class ItemBackoff {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly opts: BackoffOptions = DEFAULT_RECONCILE_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  /** Records a failure of key and returns how long to wait before retrying it. */
  when(key: string): number {
    const attempt = this.failures.get(key) ?? 0;
    this.failures.set(key, attempt + 1);
    return backoffDelay(attempt, this.opts, this.random);
  }

  /** How many failures in a row key has had. */
  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Clears key's failures (after a success), so the next failure waits baseMs again. */
  forget(key: string): void {
    this.failures.delete(key);
  }
}
