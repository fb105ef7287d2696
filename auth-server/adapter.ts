/**
 * node-oidc-provider's storage in Postgres: every model (sessions, interactions, grants, codes, tokens) is a
 * row of `oidc_payloads` keyed by (model, id), with the indexed columns the adapter interface looks up by
 * (grant_id, uid, user_code). Expired rows read as absent and are purged periodically. The `Client` model is
 * not stored here: clients come from the read model (clients.ts).
 */

import { type Kysely, sql } from "kysely";
import type { Adapter, AdapterPayload } from "oidc-provider";
import type { Database } from "../db/schema.ts";

/** "Now" for expiry; the provider itself uses the system clock, so production passes that. */
export type Clock = () => Date;

/** One model's storage over `oidc_payloads`. */
export class PostgresAdapter implements Adapter {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly model: string,
    private readonly clock: Clock = () => new Date(),
  ) {}

  /** Stores an instance, replacing any earlier version (and its consumed mark). */
  async upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void> {
    const now = this.clock();
    const expiresAt = typeof expiresIn === "number" ? new Date(now.getTime() + expiresIn * 1000) : null;
    const row = {
      model: this.model,
      id,
      payload: JSON.stringify(payload),
      grant_id: typeof payload.grantId === "string" ? payload.grantId : null,
      user_code: typeof payload.userCode === "string" ? payload.userCode : null,
      uid: typeof payload.uid === "string" ? payload.uid : null,
      expires_at: expiresAt,
      consumed_at: null,
      created_at: now,
    };
    await this.db
      .insertInto("oidc_payloads")
      .values(row)
      .onConflict((oc) =>
        oc.columns(["model", "id"]).doUpdateSet({
          payload: row.payload,
          grant_id: row.grant_id,
          user_code: row.user_code,
          uid: row.uid,
          expires_at: row.expires_at,
          consumed_at: null,
        }),
      )
      .execute();
  }

  /** The instance, with `consumed` (epoch seconds) when it was consumed; undefined when absent or expired. */
  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.findBy("id", id);
  }

  /** A device flow instance by its user code. */
  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.findBy("user_code", userCode);
  }

  /** A session by its uid. */
  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.findBy("uid", uid);
  }

  /** Marks a single-use instance (authorization code, rotated refresh token) as used. */
  async consume(id: string): Promise<void> {
    await this.db
      .updateTable("oidc_payloads")
      .set({ consumed_at: this.clock() })
      .where("model", "=", this.model)
      .where("id", "=", id)
      .execute();
  }

  /** Removes an instance. */
  async destroy(id: string): Promise<void> {
    await this.db.deleteFrom("oidc_payloads").where("model", "=", this.model).where("id", "=", id).execute();
  }

  /** Removes every instance of this model that belongs to a grant (revocation, code reuse). */
  async revokeByGrantId(grantId: string): Promise<void> {
    await this.db
      .deleteFrom("oidc_payloads")
      .where("model", "=", this.model)
      .where("grant_id", "=", grantId)
      .execute();
  }

  private async findBy(
    column: "id" | "uid" | "user_code",
    value: string,
  ): Promise<AdapterPayload | undefined> {
    const row = await this.db
      .selectFrom("oidc_payloads")
      .select(["payload", "consumed_at"])
      .where("model", "=", this.model)
      .where(column, "=", value)
      .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", this.clock())]))
      .executeTakeFirst();
    if (!row) return undefined;
    const payload = row.payload as AdapterPayload;
    return row.consumed_at ? { ...payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) } : payload;
  }
}

/**
 * Deletes rows that expired more than `graceMs` ago (default one hour: the provider's clock tolerance and
 * refresh-token reuse detection look at recently expired instances). Returns how many went.
 */
export async function purgeExpired(
  db: Kysely<Database>,
  now: Date,
  graceMs = 60 * 60 * 1000,
): Promise<number> {
  const result = await db
    .deleteFrom("oidc_payloads")
    .where("expires_at", "<", new Date(now.getTime() - graceMs))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** How many rows each model has; for metrics and tests. */
export async function countByModel(db: Kysely<Database>): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom("oidc_payloads")
    .select(["model", sql<string>`count(*)`.as("n")])
    .groupBy("model")
    .execute();
  return Object.fromEntries(rows.map((r) => [r.model, Number(r.n)]));
}
