/**
 * The outbox of user events: portal-api appends an event in the same transaction as the change it reports;
 * the operator's mailer and chatbot controllers consume it (exactly once, through the notification ledger).
 *
 * Verification and password-reset events carry the one-time token the mail must contain: the token's hash
 * is what email_verifications / password_resets store, so the outbox is the only place the raw token exists
 * until the mail is sent. The mailer removes it from the payload once the mail is delivered (scrubToken),
 * and the token expires anyway.
 */
import type { Kysely, Transaction } from "kysely";
import type { Database } from "./schema.ts";

/** A user, as events name them. */
export interface EventUser {
  userId: string;
  email: string;
  displayName: string;
}

/** Every event the outbox carries, by type. */
export type OutboxEvent =
  | ({ type: "UserSignedUp"; verifyToken: string | null } & EventUser)
  | ({ type: "VerificationRequested"; verifyToken: string | null } & EventUser)
  | ({ type: "UserVerified" } & EventUser)
  | ({ type: "PasswordResetRequested"; resetToken: string | null } & EventUser)
  | ({
      type: "ApplicationAdded" | "ApplicationDeleted";
      namespace: string;
      application: string;
      applicationDisplayName: string;
    } & EventUser)
  | ({
      type: "SubscriptionAdded" | "SubscriptionDeleted";
      namespace: string;
      subscription: string;
      application: string;
      api: string;
      plan: string;
    } & EventUser)
  | ({ type: "CredentialsRotated"; namespace: string; subscription: string; api: string } & EventUser);

/** The names of the event types. */
export type OutboxEventType = OutboxEvent["type"];

/** Appends an event; call it inside the transaction of the change it reports. */
export async function appendOutbox(
  db: Kysely<Database> | Transaction<Database>,
  event: OutboxEvent,
): Promise<string> {
  const { type, userId } = event;
  const row = await db
    .insertInto("outbox")
    .values({ event_type: type, aggregate: userId, payload: JSON.stringify(event) })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

/** An event as stored, with its sequence number. */
export interface StoredOutboxEvent {
  id: string;
  createdAt: Date;
  processedAt: Date | null;
  event: OutboxEvent;
}

/** Reads events after a sequence number, oldest first. */
export async function readOutbox(
  db: Kysely<Database>,
  afterId: string,
  limit = 100,
): Promise<StoredOutboxEvent[]> {
  const rows = await db
    .selectFrom("outbox")
    .selectAll()
    .where("id", ">", afterId)
    .orderBy("id")
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    createdAt: r.created_at,
    processedAt: r.processed_at,
    event: r.payload as unknown as OutboxEvent,
  }));
}

/** Removes the one-time token from a delivered event's payload. */
export async function scrubToken(db: Kysely<Database>, id: string): Promise<void> {
  const row = await db.selectFrom("outbox").select("payload").where("id", "=", id).executeTakeFirst();
  if (!row) return;
  const payload = { ...(row.payload as Record<string, unknown>) };
  for (const key of ["verifyToken", "resetToken"]) if (key in payload) payload[key] = null;
  await db
    .updateTable("outbox")
    .set({ payload: JSON.stringify(payload) })
    .where("id", "=", id)
    .execute();
}
