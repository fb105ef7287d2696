/**
 * Bounding work that may never finish: a reconcile waiting on a database that does not answer, a pool that
 * waits for a connection such a reconcile still holds. The caller stops waiting at the deadline and the
 * work is told so through its AbortSignal; work that ignores the signal runs on, abandoned, and whatever it
 * returns later is not the caller's concern any more.
 */

/** How work given a deadline ended, from the caller's point of view. */
export type DeadlineOutcome<T> =
  | { status: "fulfilled"; value: T }
  | { status: "rejected"; reason: unknown }
  /** The deadline passed first. `settled` resolves (never rejects) once the abandoned work ends, if ever. */
  | { status: "timedOut"; settled: Promise<void> };

/** Options of withDeadline. */
export interface DeadlineOptions {
  /** How long to wait, in ms; a value beyond what a timer can hold (about 24.8 days) means no deadline. */
  timeoutMs: number;
  /** The abort reason handed to the work's signal at the deadline; a plain Error naming the limit by default. */
  reason?: () => Error;
  /**
   * Also aborts the work's signal, with this signal's reason (e.g. the replica stopped leading); the wait
   * still ends only when the work ends or at the deadline.
   */
  signal?: AbortSignal;
}

/** The longest delay setTimeout honours; larger delays fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Runs `work` and resolves with its outcome, or with `timedOut` as soon as timeoutMs passed, whether or not
 * the work noticed. At the deadline the signal given to `work` aborts, so work that can pass a signal on
 * stops; a synchronous throw of `work` counts as a rejection. Never rejects.
 */
export async function withDeadline<T>(
  work: (signal: AbortSignal) => Promise<T>,
  opts: DeadlineOptions,
): Promise<DeadlineOutcome<T>> {
  const controller = new AbortController();
  // Forwarded by hand rather than with AbortSignal.any, so a long-lived parent signal holds no reference to
  // this work once the wait is over.
  const parent = opts.signal;
  const forward = () => controller.abort(parent?.reason);
  if (parent?.aborted) forward();
  else parent?.addEventListener("abort", forward, { once: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    const running = (async () => work(controller.signal))().then(
      (value): DeadlineOutcome<T> => ({ status: "fulfilled", value }),
      (reason: unknown): DeadlineOutcome<T> => ({ status: "rejected", reason }),
    );
    if (opts.timeoutMs > MAX_TIMER_MS) return await running;
    const expired = new Promise<"expired">((resolve) => {
      timer = setTimeout(() => resolve("expired"), Math.max(0, opts.timeoutMs));
    });
    const first = await Promise.race([running, expired]);
    if (first !== "expired") return first;
    controller.abort(opts.reason?.() ?? new Error(`Gave up after ${opts.timeoutMs} ms`));
    return { status: "timedOut", settled: running.then(() => undefined) };
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener("abort", forward);
  }
}

/**
 * Resolves like `promise` until `signal` aborts, then rejects with the signal's reason at once (the promise
 * itself runs on and its result is dropped). Rejects at once if the signal already aborted.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
