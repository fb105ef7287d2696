/**
 * Retries of Admin API requests that failed transiently: 5xx answers, timeouts and refused connections
 * (status 0). Capped exponential backoff with jitter, a bounded number of attempts per request, and an
 * AbortSignal that stops both the waiting and the retrying. 4xx answers are Kong's verdict and are not
 * retried.
 */
import { type BackoffOptions, backoffDelay } from "../../controller-runtime/backoff.ts";
import { KongAdminError } from "./admin-client.ts";

/** How requests are retried. */
export interface RetryOptions {
  /** Attempts per request, the first included; default 5. */
  maxAttempts?: number;
  /** Delay before retry n: min(capMs, baseMs · 2^n), minus up to `jitter` of itself; default 200 ms to 5 s, jitter 0.5. */
  backoff?: BackoffOptions;
  /** Random source in [0, 1) for the jitter; default Math.random. */
  random?: () => number;
  /** Called before each wait, e.g. to count retries or log them. */
  onRetry?: (info: RetryInfo) => void;
}

/** One upcoming retry. */
export interface RetryInfo {
  /** The attempt that failed (1 for the first). */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: KongAdminError;
}

/** The default backoff of Admin API retries. */
export const DEFAULT_KONG_BACKOFF: BackoffOptions = { baseMs: 200, capMs: 5_000, jitter: 0.5 };

/** The default number of attempts per request. */
export const DEFAULT_MAX_ATTEMPTS = 5;

/** Whether a failure is worth retrying: no answer (status 0), a 5xx, or 429. */
export function isTransient(err: unknown): err is KongAdminError {
  return err instanceof KongAdminError && (err.status === 0 || err.status >= 500 || err.status === 429);
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A transient failure that outlived every attempt; `attempts` says how many were made. The last error's
 * status tells whether Kong answered (5xx) or could not be reached (0).
 */
export class RetriesExhaustedError extends KongAdminError {
  override readonly name = "RetriesExhaustedError";
  constructor(
    readonly last: KongAdminError,
    readonly attempts: number,
  ) {
    super(`${last.message} (after ${attempts} attempts)`, last.status, last.body);
  }
}

/**
 * Runs `request` until it succeeds, fails with a non-transient error (rethrown as is), or has used up its
 * attempts (RetriesExhaustedError). An abort rejects with the signal's reason.
 */
export async function withRetry<T>(
  request: () => Promise<T>,
  options: RetryOptions = {},
  signal?: AbortSignal,
): Promise<T> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
  const backoff = options.backoff ?? DEFAULT_KONG_BACKOFF;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await request();
    } catch (err) {
      signal?.throwIfAborted();
      if (!isTransient(err)) throw err;
      if (attempt >= maxAttempts) throw new RetriesExhaustedError(err, attempt);
      const delayMs = backoffDelay(attempt - 1, backoff, options.random);
      options.onRetry?.({ attempt, delayMs, error: err });
      await sleep(delayMs, signal);
    }
  }
}
