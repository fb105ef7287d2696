/**
 * Turns the outbox of user events into ledger effects. One transaction per batch: the events are locked
 * (`FOR UPDATE SKIP LOCKED`, so two replicas take different events), their effects inserted into the
 * ledger, and the events marked processed — all or nothing, so a crash in between plans the batch again
 * and the ledger's keys make that harmless.
 */
import { type Kysely, sql } from "kysely";
import { type OutboxEvent, scrubToken } from "../../db/outbox.ts";
import type { Database } from "../../db/schema.ts";
import { effectsOfOutboxEvent, keepsToken, type PlanningConfig } from "./effects.ts";
import { recordEffects } from "./ledger.ts";

/** What one planning pass did. */
export interface OutboxPlanResult {
  /** Events marked processed. */
  processed: number;
  /** New ledger effects. */
  planned: number;
  /** Events older than the horizon, processed without effects. */
  skippedStale: number;
}

/**
 * Plans up to `limit` unprocessed events, oldest first. Events older than `horizonMs` (by the database's
 * clock) are marked processed without effects: after a long outage, or when a portal first gets mail,
 * nobody wants a flood of stale mails. An event that implies no token mail loses its token at once.
 */
export async function planOutbox(
  db: Kysely<Database>,
  portal: string,
  config: PlanningConfig,
  horizonMs: number,
  limit: number,
): Promise<OutboxPlanResult> {
  return db.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom("outbox")
      .select([
        "id",
        "payload",
        sql<boolean>`created_at < now() - ${horizonMs}::float8 * interval '1 millisecond'`.as("stale"),
      ])
      .where("processed_at", "is", null)
      .orderBy("id")
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    let planned = 0;
    let skippedStale = 0;
    for (const row of rows) {
      const event = row.payload as unknown as OutboxEvent;
      const effects = row.stale ? [] : effectsOfOutboxEvent(row.id, event, config);
      if (row.stale) skippedStale++;
      planned += await recordEffects(trx, portal, effects);
      const hasToken =
        ("verifyToken" in event && Boolean(event.verifyToken)) ||
        ("resetToken" in event && Boolean(event.resetToken));
      if (hasToken && !keepsToken(effects)) await scrubToken(trx, row.id);
    }
    if (rows.length > 0) {
      await trx
        .updateTable("outbox")
        .set({ processed_at: sql<Date>`now()` })
        .where(
          "id",
          "in",
          rows.map((r) => r.id),
        )
        .execute();
    }
    return { processed: rows.length, planned, skippedStale };
  });
}
