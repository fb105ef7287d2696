import { sql } from "kysely";
import type { SchemaMigration } from "./types.ts";

// What the mailer and chatbot need to deliver each ledger effect exactly once (operator/notifications/):
// which portal it belongs to, what to say (the facts, never a secret), which outbox event it came from
// (the one-time token is read from there at send time), when to try again, and a 'sending' claim with a
// lease so two replicas never send the same effect at the same time. A migration is frozen once released.

/** Adds delivery state to the notification ledger. */
export const notificationDelivery: SchemaMigration = {
  async up(db) {
    await sql`
      ALTER TABLE notification_ledger
        ADD COLUMN portal text NOT NULL DEFAULT '',
        ADD COLUMN payload jsonb NOT NULL DEFAULT '{}'::jsonb,
        ADD COLUMN outbox_id bigint,
        ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
        ADD COLUMN lease_holder text,
        ADD COLUMN lease_expires_at timestamptz,
        ADD COLUMN interrupted_attempts integer NOT NULL DEFAULT 0`.execute(db);
    await sql`ALTER TABLE notification_ledger DROP CONSTRAINT notification_ledger_status_check`.execute(db);
    await sql`
      ALTER TABLE notification_ledger
        ADD CONSTRAINT notification_ledger_status_check
          CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
        ADD CONSTRAINT notification_ledger_payload_check CHECK (jsonb_typeof(payload) = 'object'),
        ADD CONSTRAINT notification_ledger_lease_check
          CHECK ((status = 'sending') = (lease_expires_at IS NOT NULL AND lease_holder IS NOT NULL)),
        ADD CONSTRAINT notification_ledger_interrupted_attempts_check CHECK (interrupted_attempts >= 0)`.execute(
      db,
    );
    // What a sender looks for: a portal's effects that are due or whose claim has expired.
    await db.schema
      .createIndex("notification_ledger_due_idx")
      .on("notification_ledger")
      .columns(["portal", "next_attempt_at"])
      .where(sql<boolean>`status IN ('pending', 'sending')`)
      .execute();
  },

  async down(db) {
    await db.schema.dropIndex("notification_ledger_due_idx").execute();
    await sql`
      ALTER TABLE notification_ledger
        DROP CONSTRAINT notification_ledger_interrupted_attempts_check,
        DROP CONSTRAINT notification_ledger_lease_check,
        DROP CONSTRAINT notification_ledger_payload_check,
        DROP CONSTRAINT notification_ledger_status_check`.execute(db);
    // A claim in flight becomes a plain pending effect again: the old schema knows no 'sending'.
    await sql`UPDATE notification_ledger SET status = 'pending' WHERE status = 'sending'`.execute(db);
    await sql`
      ALTER TABLE notification_ledger
        ADD CONSTRAINT notification_ledger_status_check CHECK (status IN ('pending', 'sent', 'failed')),
        DROP COLUMN interrupted_attempts,
        DROP COLUMN lease_expires_at,
        DROP COLUMN lease_holder,
        DROP COLUMN next_attempt_at,
        DROP COLUMN outbox_id,
        DROP COLUMN payload,
        DROP COLUMN portal`.execute(db);
  },
};
