/**
 * Tuning of notifications, with defaults that suit a Deployment and an environment variable for each, so
 * tests (and operators) can shorten the waits.
 */
import type { BackoffOptions } from "../../controller-runtime/backoff.ts";

/** How notifications poll, claim, retry and batch. */
export interface NotificationTuning {
  /** How often the outbox and the ledger are looked at when idle; WICKED_NOTIFICATIONS_POLL_MS, 2 s. */
  pollIntervalMs: number;
  /**
   * How long a 'sending' claim lasts; WICKED_NOTIFICATIONS_CLAIM_LEASE_MS, 60 s. A sender that dies holds
   * its effects this long; SMTP and webhook timeouts are derived from it so a send ends well within it.
   */
  claimLeaseMs: number;
  /** Backoff of failed deliveries; WICKED_NOTIFICATIONS_RETRY_BASE_MS (1 s) and _CAP_MS (5 min), jitter 0.5. */
  retry: BackoffOptions;
  /** Older events and transitions are not notified; WICKED_NOTIFICATIONS_HORIZON_MS, 24 h. */
  horizonMs: number;
  /** Effects claimed at once; 20. */
  batchSize: number;
  /**
   * Sends in flight at once per portal; 2. Each one in flight when the process dies may be in the residual
   * window (README.md), so more is faster but risks more copies on a crash.
   */
  sendConcurrency: number;
  /** Most effects one reconcile delivers before it yields to other portals; 200. */
  maxPerPass: number;
}

/** The defaults. */
export const DEFAULT_TUNING: NotificationTuning = {
  pollIntervalMs: 2_000,
  claimLeaseMs: 60_000,
  retry: { baseMs: 1_000, capMs: 300_000, jitter: 0.5 },
  horizonMs: 24 * 60 * 60 * 1000,
  batchSize: 20,
  sendConcurrency: 2,
  maxPerPass: 200,
};

function positive(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number of milliseconds, not "${raw}"`);
  return value;
}

/** Reads the tuning from the environment; unset variables keep the defaults. */
export function notificationTuningFromEnv(env: NodeJS.ProcessEnv = process.env): NotificationTuning {
  const d = DEFAULT_TUNING;
  return {
    ...d,
    pollIntervalMs: positive(env, "WICKED_NOTIFICATIONS_POLL_MS") ?? d.pollIntervalMs,
    claimLeaseMs: positive(env, "WICKED_NOTIFICATIONS_CLAIM_LEASE_MS") ?? d.claimLeaseMs,
    horizonMs: positive(env, "WICKED_NOTIFICATIONS_HORIZON_MS") ?? d.horizonMs,
    retry: {
      ...d.retry,
      baseMs: positive(env, "WICKED_NOTIFICATIONS_RETRY_BASE_MS") ?? d.retry.baseMs,
      capMs: positive(env, "WICKED_NOTIFICATIONS_RETRY_CAP_MS") ?? d.retry.capMs,
    },
  };
}

/** Timeouts of one send, well inside the claim lease. */
export function sendTimeouts(claimLeaseMs: number): {
  connectionTimeoutMs: number;
  greetingTimeoutMs: number;
  socketTimeoutMs: number;
  webhookTimeoutMs: number;
} {
  return {
    connectionTimeoutMs: Math.min(10_000, claimLeaseMs / 6),
    greetingTimeoutMs: Math.min(10_000, claimLeaseMs / 6),
    socketTimeoutMs: Math.min(20_000, claimLeaseMs / 4),
    webhookTimeoutMs: Math.min(15_000, claimLeaseMs / 4),
  };
}
