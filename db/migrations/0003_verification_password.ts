import { sql } from "kysely";
import type { SchemaMigration } from "./types.ts";

// A sign-up's password belongs to its verification link: following the link activates the password chosen
// with it, so a second sign-up of an address nobody has proven cannot keep (or plant) a password for the
// person who proves it. A migration is frozen once released.

/** Adds the password hash a verification link activates. */
export const verificationPassword: SchemaMigration = {
  async up(db) {
    await sql`ALTER TABLE email_verifications ADD COLUMN password_hash text`.execute(db);
  },
  async down(db) {
    await sql`ALTER TABLE email_verifications DROP COLUMN password_hash`.execute(db);
  },
};
