// Part of the Kong TEST DOUBLE (test/kong): never imported by the product.

/** The double's notion of "now", in epoch milliseconds; injectable so tests move time without sleeping. */
export type Clock = () => number;

/** A clock that only moves when a test says so. */
export interface ManualClock {
  /** The current time in epoch milliseconds. */
  now(): number;
  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void;
}

/** Creates a manual clock starting at `startMs` (epoch milliseconds). */
export function createManualClock(startMs: number): ManualClock {
  let current = startMs;
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
  };
}

/** Epoch seconds of a clock reading, the unit of Kong's `created_at` and `updated_at`. */
export function epochSeconds(clock: Clock): number {
  return Math.floor(clock() / 1000);
}
