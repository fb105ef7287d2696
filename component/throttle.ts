/**
 * Throttling of the forms that guess or send mail (login, sign-up, password reset): counters of requests per
 * key in fixed windows, checked together so that one request can be limited per client address, per account
 * and globally at once. @fastify/rate-limit keeps one limit per route and counts refused requests too (so a
 * client held back by its own limit would also use up the global one); this module counts a request only
 * when every limit admits it.
 *
 * Counters live in the process: each replica of a component counts on its own.
 */
import { normalizeIP } from "@fastify/rate-limit";
import type { FastifyReply, FastifyRequest } from "fastify";

/** At most `max` requests per `timeWindowMs`. */
export interface Limit {
  max: number;
  timeWindowMs: number;
}

/** Keys a counter holds at most, unless told otherwise; at the default limits a counter never fills. */
export const DEFAULT_MAX_KEYS = 10_000;

/**
 * Counts requests per key in fixed windows that start at a key's first request. Memory is bounded: keys whose
 * window has ended are forgotten, and while `maxKeys` live keys are held a new key waits (it is refused, not
 * let through) until the oldest window ends.
 */
export class WindowCounter {
  /** Windows in the order they started, so the ended ones are always at the front. */
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    readonly limit: Limit,
    private readonly maxKeys = DEFAULT_MAX_KEYS,
  ) {
    if (!Number.isInteger(limit.max) || limit.max < 1)
      throw new RangeError(`A limit's max must be a whole number of at least 1, not ${limit.max}`);
    if (!Number.isInteger(limit.timeWindowMs) || limit.timeWindowMs < 1)
      throw new RangeError(`A limit's window must be at least 1 ms, not ${limit.timeWindowMs}`);
  }

  /** How many keys are held. */
  get size(): number {
    return this.windows.size;
  }

  /** Milliseconds until `key` may make another request at `now`; 0 when it may now. */
  waitMs(key: string, now: number): number {
    this.forgetEnded(now);
    const window = this.windows.get(key);
    if (window) return window.count < this.limit.max ? 0 : window.start + this.limit.timeWindowMs - now;
    if (this.windows.size < this.maxKeys) return 0;
    const oldest = this.windows.values().next().value;
    return oldest ? oldest.start + this.limit.timeWindowMs - now : 0;
  }

  /** Counts a request of `key` at `now` (after waitMs said 0). */
  count(key: string, now: number): void {
    this.forgetEnded(now);
    const window = this.windows.get(key);
    if (window) window.count += 1;
    else this.windows.set(key, { start: now, count: 1 });
  }

  private forgetEnded(now: number): void {
    for (const [key, window] of this.windows) {
      if (window.start + this.limit.timeWindowMs > now) return;
      this.windows.delete(key);
    }
  }
}

/** One limit a request must pass: a counter and the request's key in it. */
export type Check = readonly [WindowCounter, string];

/**
 * Admits a request when every check has room, and then counts it in each; a refused request counts nowhere.
 * Returns 0 when admitted, otherwise the milliseconds until every full bucket has room again.
 */
export function admit(checks: readonly Check[], now: number): number {
  const wait = Math.max(0, ...checks.map(([counter, key]) => counter.waitMs(key, now)));
  if (wait > 0) return wait;
  for (const [counter, key] of checks) counter.count(key, now);
  return 0;
}

/** A client address as a throttle key: IPv6 addresses by their /64 (one subscriber), IPv4-mapped as IPv4. */
export function addressKey(ip: string): string {
  return normalizeIP(ip, 64);
}

/** An email address as a throttle key: the account it names, however it is spelt. */
export function accountKey(email: string): string {
  return email.trim().toLowerCase();
}

/** Whole seconds to wait, for Retry-After (at least 1). */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** A wait in words: seconds under a minute, else whole minutes rounded up. */
export function waitText(seconds: number): string {
  if (seconds < 60) return seconds === 1 ? "1 second" : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? "1 minute" : `${minutes} minutes`;
}

/** A request refused by a throttle; error handlers answer it with 429 (Retry-After is already set). */
export class TooManyRequests extends Error {
  override readonly name = "TooManyRequests";
  readonly statusCode = 429;
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many attempts. Wait ${waitText(retryAfterSeconds)}, then try again.`);
  }
}

/**
 * A route hook (preHandler, so the body is parsed) that admits a request through the checks `checksOf` names
 * for it, or sets Retry-After and throws TooManyRequests.
 */
export function throttle(
  checksOf: (request: FastifyRequest) => Check[],
  now: () => number = Date.now,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request, reply) => {
    const wait = admit(checksOf(request), now());
    if (wait === 0) return;
    const seconds = retryAfterSeconds(wait);
    reply.header("retry-after", String(seconds));
    throw new TooManyRequests(seconds);
  };
}
