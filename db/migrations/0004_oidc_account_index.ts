import { sql } from "kysely";
import type { SchemaMigration } from "./types.ts";

// A password change or reset, a federated takeover and an account deletion end every session and grant of
// the account at the auth server (accounts/sessions.ts): an index on the account of each OIDC payload lets
// that find the account's rows without reading every session and token of the portal. A migration is frozen
// once released.

/** Indexes OIDC payloads by the account they belong to. */
export const oidcAccountIndex: SchemaMigration = {
  async up(db) {
    await sql`CREATE INDEX oidc_payloads_account_id_idx ON oidc_payloads ((payload->>'accountId'))`.execute(
      db,
    );
  },
  async down(db) {
    await sql`DROP INDEX oidc_payloads_account_id_idx`.execute(db);
  },
};
