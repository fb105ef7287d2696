/**
 * The notification ledger (table notification_ledger): one row per effect key. Planning inserts rows
 * (`ON CONFLICT DO NOTHING`, so planning twice changes nothing); a sender claims due rows — status
 * 'sending' with a lease, taken with `FOR UPDATE SKIP LOCKED` so two replicas never claim the same row —
 * sends, and marks them sent; a failure puts the row back as pending with a later next_attempt_at. Times
 * come from the database's clock, which all replicas share.
 *
 * The residual window: SMTP and chat webhooks have no idempotency, so a sender that dies after the server
 * accepted a message (its 250 after DATA, or the webhook's 2xx) and before the ledger says 'sent' leaves a
 * claim that expires; the effect is then sent again, with the same Message-ID. Such takeovers are counted
 * in interrupted_attempts.
 */
import { type Kysely, sql, type Transaction } from "kysely";
import { scrubToken } from "../../db/outbox.ts";
import type { Database, NotificationChannel, NotificationStatus } from "../../db/schema.ts";
import type { Facts, PlannedEffect } from "./effects.ts";

type Db = Kysely<Database> | Transaction<Database>;

/** What the ledger keeps to render an effect later. */
export interface EffectPayload {
  to: string[];
  facts: Facts;
}

/** An effect a sender has claimed. */
export interface ClaimedEffect {
  key: string;
  kind: string;
  channel: NotificationChannel;
  target: string;
  payload: EffectPayload;
  outboxId: string | null;
  /** Attempts including this one. */
  attempts: number;
  /** True when this claim took over an expired one: the previous attempt may have delivered the message. */
  interrupted: boolean;
}

/** Inserts planned effects that are not in the ledger yet; returns how many were new. */
export async function recordEffects(
  db: Db,
  portal: string,
  effects: readonly PlannedEffect[],
): Promise<number> {
  if (effects.length === 0) return 0;
  const rows = await db
    .insertInto("notification_ledger")
    .values(
      effects.map((e) => ({
        effect_key: e.key,
        kind: e.kind,
        channel: e.channel,
        target: e.target.slice(0, 2000),
        portal,
        payload: JSON.stringify({ to: e.to, facts: e.facts } satisfies EffectPayload),
        outbox_id: e.outboxId ?? null,
      })),
    )
    .onConflict((oc) => oc.column("effect_key").doNothing())
    .returning("effect_key")
    .execute();
  return rows.length;
}

/** Which of the keys the ledger already has. */
export async function existingKeys(db: Db, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await db
    .selectFrom("notification_ledger")
    .select("effect_key")
    .where("effect_key", "in", [...keys])
    .execute();
  return new Set(rows.map((r) => r.effect_key));
}

interface ClaimRow {
  effect_key: string;
  kind: string;
  channel: NotificationChannel;
  target: string;
  payload: EffectPayload;
  outbox_id: string | null;
  attempts: number;
  previous_status: NotificationStatus;
}

/**
 * Claims up to `limit` of a portal's effects that are due, or whose claim expired, for `holder` for
 * `leaseMs`. Rows another sender is claiming at the same moment are skipped, never waited for. Rows
 * without a portal (written before migration 0002, or kept through a rollback of it) belong to the portal
 * whose database they are in.
 */
export async function claimDue(
  db: Db,
  portal: string,
  holder: string,
  leaseMs: number,
  limit: number,
): Promise<ClaimedEffect[]> {
  const { rows } = await sql<ClaimRow>`
    WITH due AS (
      SELECT effect_key, status AS previous_status
      FROM notification_ledger
      WHERE portal IN (${portal}, '')
        AND ((status = 'pending' AND next_attempt_at <= now())
          OR (status = 'sending' AND lease_expires_at <= now()))
      ORDER BY next_attempt_at, outbox_id NULLS LAST, effect_key
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE notification_ledger AS l
    SET status = 'sending',
        lease_holder = ${holder},
        lease_expires_at = now() + ${leaseMs}::float8 * interval '1 millisecond',
        attempts = l.attempts + 1,
        interrupted_attempts = l.interrupted_attempts + (CASE WHEN due.previous_status = 'sending' THEN 1 ELSE 0 END)
    FROM due
    WHERE l.effect_key = due.effect_key
    RETURNING l.effect_key, l.kind, l.channel, l.target, l.payload, l.outbox_id, l.attempts, due.previous_status`.execute(
    db,
  );
  return rows.map((r) => ({
    key: r.effect_key,
    kind: r.kind,
    channel: r.channel,
    target: r.target,
    payload: { to: r.payload?.to ?? [], facts: r.payload?.facts ?? {} },
    outboxId: r.outbox_id,
    attempts: r.attempts,
    interrupted: r.previous_status === "sending",
  }));
}

/**
 * Marks an effect sent and, for a mail that carried a one-time token, removes the token from its outbox
 * event, in one transaction. Unconditional on the claim: once a message went out, no one may send it again.
 */
export async function markSent(db: Kysely<Database>, key: string, scrubOutboxId?: string): Promise<void> {
  const mark = (d: Db) =>
    d
      .updateTable("notification_ledger")
      .set({
        status: "sent",
        sent_at: sql<Date>`now()`,
        lease_holder: null,
        lease_expires_at: null,
        last_error: null,
      })
      .where("effect_key", "=", key)
      .where("status", "<>", "sent")
      .execute();
  // A single statement when there is no token: this write ends the window in which a crash sends twice.
  if (scrubOutboxId === undefined) {
    await mark(db);
    return;
  }
  await db.transaction().execute(async (trx) => {
    await mark(trx);
    await scrubToken(trx, scrubOutboxId);
  });
}

/** Gives a claimed effect back as pending, due again after `delayMs`, with the error that stopped it. */
export async function release(
  db: Db,
  key: string,
  holder: string,
  delayMs: number,
  error: string,
): Promise<void> {
  await db
    .updateTable("notification_ledger")
    .set({
      status: "pending",
      next_attempt_at: sql<Date>`now() + ${Math.max(0, Math.round(delayMs))}::float8 * interval '1 millisecond'`,
      lease_holder: null,
      lease_expires_at: null,
      last_error: error.slice(0, 2000),
    })
    .where("effect_key", "=", key)
    .where("status", "=", "sending")
    .where("lease_holder", "=", holder)
    .execute();
}

/** Gives back a claimed effect that was not attempted (this replica stopped leading), due at once. */
export async function unclaim(db: Db, key: string, holder: string): Promise<void> {
  await db
    .updateTable("notification_ledger")
    .set((eb) => ({
      status: "pending",
      attempts: eb("attempts", "-", 1),
      lease_holder: null,
      lease_expires_at: null,
    }))
    .where("effect_key", "=", key)
    .where("status", "=", "sending")
    .where("lease_holder", "=", holder)
    .execute();
}

/** Gives up on an effect (the server refused it for good), removing a one-time token it carried. */
export async function abandon(
  db: Kysely<Database>,
  key: string,
  error: string,
  scrubOutboxId?: string,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable("notification_ledger")
      .set({ status: "failed", lease_holder: null, lease_expires_at: null, last_error: error.slice(0, 2000) })
      .where("effect_key", "=", key)
      .where("status", "<>", "sent")
      .execute();
    if (scrubOutboxId !== undefined) await scrubToken(trx, scrubOutboxId);
  });
}

/** A failing channel (email, or one chat target) and its latest error. */
export interface ChannelFailure {
  channel: NotificationChannel;
  /** The chat target's name; empty for email. */
  target: string;
  error: string;
}

/** A portal's undelivered effects, for its condition and metrics. */
export interface LedgerSummary {
  /** Effects not sent yet (pending or being sent). */
  pending: number;
  /** Of those, how many failed at least once and wait for a retry. */
  failing: number;
  /** When the earliest pending effect is due. */
  nextDueAt?: Date;
  /** The failing channels, in a stable order, each with its latest error. */
  failures: ChannelFailure[];
}

/** Summarises a portal's undelivered effects. */
export async function ledgerSummary(db: Db, portal: string): Promise<LedgerSummary> {
  const counts = await db
    .selectFrom("notification_ledger")
    .select([
      sql<number>`count(*)::int`.as("pending"),
      sql<number>`(count(*) FILTER (WHERE last_error IS NOT NULL))::int`.as("failing"),
      sql<Date | null>`min(next_attempt_at) FILTER (WHERE status = 'pending')`.as("next_due_at"),
    ])
    .where("portal", "in", [portal, ""])
    .where("status", "in", ["pending", "sending"])
    .executeTakeFirstOrThrow();
  const failures = await sql<ChannelFailure>`
    SELECT DISTINCT ON (channel, target) channel, target, last_error AS error
    FROM (
      SELECT channel, CASE WHEN channel = 'email' THEN '' ELSE target END AS target, last_error, next_attempt_at
      FROM notification_ledger
      WHERE portal IN (${portal}, '') AND status IN ('pending', 'sending') AND last_error IS NOT NULL
    ) AS failing
    ORDER BY channel, target, next_attempt_at DESC`.execute(db);
  return {
    pending: counts.pending,
    failing: counts.failing,
    ...(counts.next_due_at ? { nextDueAt: new Date(counts.next_due_at) } : {}),
    failures: failures.rows,
  };
}
