/**
 * Ending everything an account is logged in with at the auth server, for a password change or reset, a
 * federated takeover and an account deletion. The auth server keeps its state in `oidc_payloads`
 * (auth-server/adapter.ts) and the portal API shares the database, so this is one statement, in the caller's
 * transaction: the change and the revocation commit together.
 *
 * What goes: every Session, Grant, RefreshToken, AuthorizationCode (and opaque AccessToken) whose payload
 * names the account, and every Interaction (a login in flight) that carries the account's session or an
 * accepted login, so neither a refresh, nor the auth server's session cookie, nor resuming a login made with
 * the old password signs anyone in again. Access tokens for the portal API and the Apis are JWTs verified
 * offline (auth-server/resources.ts): they are not stored, and live until they expire (15 minutes at most).
 */
import { type Kysely, sql, type Transaction } from "kysely";
import type { Database } from "../db/schema.ts";

/** Ends every session and revokes every grant and token of a user at the auth server. */
export async function revokeUserSessions(
  db: Kysely<Database> | Transaction<Database>,
  userId: string,
): Promise<void> {
  await db
    .deleteFrom("oidc_payloads")
    .where((eb) =>
      eb.or([
        eb(sql<string>`payload->>'accountId'`, "=", userId),
        eb.and([
          eb("model", "=", "Interaction"),
          eb.or([
            eb(sql<string>`payload->'session'->>'accountId'`, "=", userId),
            eb(sql<string>`payload->'result'->'login'->>'accountId'`, "=", userId),
          ]),
        ]),
      ]),
    )
    .execute();
}
