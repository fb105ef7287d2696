// Part of the Kong TEST DOUBLE (test/kong): never imported by the product.
// The rate-limiting plugin's access phase with the `local` policy (kong/plugins/rate-limiting, Kong 3.9):
// fixed windows per period in UTC, counters per plugin and identifier, RateLimit-* and X-RateLimit-* headers.
import type { Clock } from "../clock.ts";
import type { JsonObject } from "../json.ts";
import { errorExit, type PluginHandler, type ProxyState } from "./types.ts";

/** The periods Kong limits, shortest first, with their window length in seconds (Kong's EXPIRATION). */
const PERIOD_SECONDS = {
  second: 1,
  minute: 60,
  hour: 3600,
  day: 86400,
  month: 2592000,
  year: 31536000,
} as const;

type Period = keyof typeof PERIOD_SECONDS;

const PERIODS = Object.keys(PERIOD_SECONDS) as Period[];

/** The start, in epoch milliseconds, of the UTC window of `period` that contains `nowMs`. */
function windowStart(period: Period, nowMs: number): number {
  const date = new Date(nowMs);
  switch (period) {
    case "month":
      return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
    case "year":
      return Date.UTC(date.getUTCFullYear(), 0, 1);
    default: {
      const size = PERIOD_SECONDS[period] * 1000;
      return Math.floor(nowMs / size) * size;
    }
  }
}

/** Counters of the `local` policy, kept per double like Kong keeps them per node. */
export class LocalCounters {
  private readonly counts = new Map<string, number>();

  /** The count stored under `key`. */
  usage(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** Adds one to the count stored under `key`. */
  increment(key: string): void {
    this.counts.set(key, this.usage(key) + 1);
  }

  /** Forgets every count. */
  clear(): void {
    this.counts.clear();
  }
}

function identifier(config: JsonObject, state: ProxyState): string {
  const credentialId = typeof state.credential?.id === "string" ? state.credential.id : undefined;
  switch (config.limit_by) {
    case "consumer":
      return (typeof state.consumer?.id === "string" ? state.consumer.id : credentialId) ?? state.clientIp;
    case "credential":
      return credentialId ?? state.clientIp;
    case "service":
      return String(state.service.id);
    case "header": {
      const name = typeof config.header_name === "string" ? config.header_name.toLowerCase() : "";
      return state.clientHeaders[name]?.[0] ?? state.clientIp;
    }
    case "path":
      return typeof config.path === "string" ? config.path : state.clientIp;
    default:
      return state.clientIp;
  }
}

function capitalized(period: Period): string {
  return period.charAt(0).toUpperCase() + period.slice(1);
}

/** Creates the rate-limiting handler counting in `counters`, with windows decided by `clock`. */
export function rateLimitingPlugin(counters: LocalCounters, clock: Clock): PluginHandler {
  return {
    access(config, state, plugin) {
      const now = clock();
      const who = identifier(config, state);
      const usage = PERIODS.flatMap((period) => {
        const limit = config[period];
        if (typeof limit !== "number") return [];
        const start = windowStart(period, now);
        const key = `${String(plugin.id)}|${who}|${period}|${start}`;
        return [{ period, limit, start, key, remaining: limit - counters.usage(key) }];
      });
      let stop: Period | undefined;
      for (const u of usage) if (u.remaining <= 0) stop = u.period;
      const headers: { [name: string]: string } = {};
      let reset: number | undefined;
      if (config.hide_client_headers !== true) {
        let best: { limit: number; remaining: number; window: number } | undefined;
        for (const u of usage) {
          const remaining = Math.max(
            0,
            stop === undefined || stop === u.period ? u.remaining - 1 : u.remaining,
          );
          const window = PERIOD_SECONDS[u.period];
          if (!best || remaining < best.remaining || (remaining === best.remaining && window > best.window)) {
            best = { limit: u.limit, remaining, window };
            reset = Math.max(1, window - Math.floor((now - u.start) / 1000));
          }
          headers[`X-RateLimit-Limit-${capitalized(u.period)}`] = String(u.limit);
          headers[`X-RateLimit-Remaining-${capitalized(u.period)}`] = String(remaining);
        }
        if (best && reset !== undefined) {
          headers["RateLimit-Limit"] = String(best.limit);
          headers["RateLimit-Remaining"] = String(best.remaining);
          headers["RateLimit-Reset"] = String(reset);
        }
      }
      if (stop !== undefined) {
        if (reset !== undefined) headers["Retry-After"] = String(reset);
        const status = typeof config.error_code === "number" ? config.error_code : 429;
        const message =
          typeof config.error_message === "string" ? config.error_message : "API rate limit exceeded";
        return errorExit(state, status, message, headers);
      }
      for (const u of usage) counters.increment(u.key);
      Object.assign(state.responseHeaders, headers);
      return undefined;
    },
  };
}
