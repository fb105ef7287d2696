import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../test/support/database.ts";
import { createDatabase } from "./connect.ts";
import { MigrationError, migrateTo, migrateToLatest, schemaVersion } from "./migrate.ts";
import { migrations } from "./migrations/index.ts";
import type { Database } from "./schema.ts";

const tables = [
  "apis",
  "audit_log",
  "clients",
  "email_verifications",
  "identities",
  "notification_ledger",
  "oidc_payloads",
  "outbox",
  "password_resets",
  "plans",
  "subscriptions",
  "users",
];

const hash = (n: number) => n.toString(16).padStart(64, "0");
const hour = 3_600_000;

let testDb: TestDatabase;
let db: Kysely<Database>;

beforeAll(async () => {
  testDb = await createTestDatabase(inject("databaseUrl"));
  db = createDatabase(testDb.url, { applicationName: "wicked-migrate-test" });
});

afterAll(async () => {
  await db?.destroy();
  await testDb?.drop();
});

async function userTables(): Promise<string[]> {
  const all = await db.introspection.getTables();
  return all.map((t) => t.name).sort();
}

/** The released migrations in order, and the newest: the schema version a migrated database reports. */
const released = Object.keys(migrations);
const latest = released.at(-1);

describe("migrateToLatest", () => {
  beforeEach(async () => {
    await migrateTo(db, null);
  });

  it("applies every migration once and nothing the second time", async () => {
    expect(await schemaVersion(db)).toBeNull();
    const first = await migrateToLatest(db);
    expect(first).toEqual({ applied: released, version: latest });
    const second = await migrateToLatest(db);
    expect(second).toEqual({ applied: [], version: latest });
    expect(await schemaVersion(db)).toBe(latest);
    expect(await userTables()).toEqual(tables);
  });

  it("lets concurrent runs apply each migration exactly once", async () => {
    const other = createDatabase(testDb.url);
    try {
      const results = await Promise.all([migrateToLatest(db), migrateToLatest(other), migrateToLatest(db)]);
      expect(results.flatMap((r) => r.applied)).toEqual(released);
      expect(results.map((r) => r.version)).toEqual([latest, latest, latest]);
    } finally {
      await other.destroy();
    }
  });

  it("undoes every migration down to an empty schema and applies them again", async () => {
    await migrateToLatest(db);
    const down = await migrateTo(db, null);
    expect(down).toEqual({ applied: [], reverted: [...released].reverse(), version: null });
    expect(await userTables()).toEqual([]);
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_proc WHERE proname = 'wicked_touch_updated_at'`.execute(db);
    expect(rows[0]?.n).toBe(0);
    expect(await migrateToLatest(db)).toEqual({ applied: released, version: latest });
    expect(await userTables()).toEqual(tables);
  });

  it("reports a failing migration with a typed error and keeps nothing of the run", async () => {
    const broken = {
      ...migrations,
      "9001_broken": {
        async up(trx: Kysely<unknown>) {
          await trx.schema.createTable("half_done").addColumn("id", "integer").execute();
          await sql`SELECT * FROM no_such_table`.execute(trx);
        },
        async down() {},
      },
    };
    const error = await migrateToLatest(db, { migrations: broken }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(MigrationError);
    expect(error).toMatchObject({ reason: "MigrationFailed", migration: "9001_broken", version: null });
    const message = error instanceof Error ? error.message : "";
    expect(message).toContain('Migration "9001_broken" failed: relation "no_such_table" does not exist');
    expect(message).toContain("[SQLSTATE 42P01]");
    expect(message).toContain("the schema is still unmigrated");
    // One transaction: the released migrations ran before the broken one failed, and are gone too.
    expect(await userTables()).toEqual([]);
    expect(await schemaVersion(db)).toBeNull();

    await migrateToLatest(db);
    const again = await migrateToLatest(db, { migrations: broken }).catch((err: unknown) => err);
    expect(again).toMatchObject({
      reason: "MigrationFailed",
      migration: "9001_broken",
      version: latest,
    });
    expect(again instanceof Error ? again.message : "").toContain(`still at version "${latest}"`);
    expect(await schemaVersion(db)).toBe(latest);
  });

  it("refuses a database migrated by a newer version", async () => {
    const newer = {
      ...migrations,
      "9002_newer": {
        async up(trx: Kysely<unknown>) {
          await trx.schema.createTable("from_the_future").addColumn("id", "integer").execute();
        },
        async down(trx: Kysely<unknown>) {
          await trx.schema.dropTable("from_the_future").execute();
        },
      },
    };
    await migrateToLatest(db, { migrations: newer });
    try {
      const error = await migrateToLatest(db).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(MigrationError);
      expect(error).toMatchObject({ reason: "SchemaFromNewerVersion", version: "9002_newer" });
      expect(error instanceof Error ? error.message : "").toMatch(/run that version again, or restore/);
    } finally {
      await migrateTo(db, null, { migrations: newer });
    }
  });

  it("refuses to move to a migration that does not exist", async () => {
    await expect(migrateTo(db, "0099_nope")).rejects.toThrow(/There is no migration "0099_nope"/);
  });
});

describe("schema 0001", () => {
  beforeAll(async () => {
    await migrateTo(db, null);
    await migrateToLatest(db);
  });

  async function newUser(email: string): Promise<string> {
    const row = await db
      .insertInto("users")
      .values({ email, display_name: "Ada" })
      .returning("id")
      .executeTakeFirstOrThrow();
    return row.id;
  }

  it("keeps one live account per email address, ignoring case", async () => {
    const id = await newUser("Ada@Example.com");
    await expect(newUser("ada@EXAMPLE.COM")).rejects.toMatchObject({
      code: "23505",
      constraint: "users_email_key",
    });
    await db.updateTable("users").set({ deleted_at: new Date() }).where("id", "=", id).execute();
    await expect(newUser("ada@example.com")).resolves.toEqual(expect.any(String));
  });

  it("refuses malformed users", async () => {
    await expect(newUser("not-an-address")).rejects.toMatchObject({ constraint: "users_email_check" });
    await expect(
      db.insertInto("users").values({ email: "b@example.com", display_name: "  " }).execute(),
    ).rejects.toMatchObject({ constraint: "users_display_name_check" });
    await expect(
      db
        .insertInto("users")
        .values({ email: "c@example.com", display_name: "C", password_hash: "hunter2" })
        .execute(),
    ).rejects.toMatchObject({ code: "23514", constraint: "users_password_hash_check" });
    await expect(
      db
        .insertInto("users")
        .values({ email: "d@example.com", display_name: "D", password_hash: "$argon2id$v=19$m=65536$abc" })
        .execute(),
    ).resolves.toBeDefined();
  });

  it("defaults and maintains the user's columns", async () => {
    const id = await newUser("defaults@example.com");
    const before = await db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    expect(before).toMatchObject({ groups: [], is_admin: false, password_hash: null, deleted_at: null });
    expect(before.created_at).toBeInstanceOf(Date);
    await sql`SELECT pg_sleep(0.01)`.execute(db);
    await db
      .updateTable("users")
      .set({ groups: ["team-a"] })
      .where("id", "=", id)
      .execute();
    const after = await db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    expect(after.groups).toEqual(["team-a"]);
    expect(after.updated_at.getTime()).toBeGreaterThan(before.updated_at.getTime());
    const fixed = new Date("2030-01-01T00:00:00Z");
    await db.updateTable("users").set({ updated_at: fixed }).where("id", "=", id).execute();
    const set = await db
      .selectFrom("users")
      .select("updated_at")
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    expect(set.updated_at).toEqual(fixed);
  });

  it("links an external identity only once per provider and subject", async () => {
    const ada = await newUser("identity-a@example.com");
    const bob = await newUser("identity-b@example.com");
    await db.insertInto("identities").values({ user_id: ada, provider: "corp", subject: "42" }).execute();
    await db.insertInto("identities").values({ user_id: bob, provider: "other", subject: "42" }).execute();
    await expect(
      db.insertInto("identities").values({ user_id: bob, provider: "corp", subject: "42" }).execute(),
    ).rejects.toMatchObject({ code: "23505", constraint: "identities_provider_subject_key" });
  });

  it("consumes a hashed token once, and never after it expired", async () => {
    const user = await newUser("tokens@example.com");
    const now = Date.now();
    await db
      .insertInto("password_resets")
      .values([
        { user_id: user, token_hash: hash(1), expires_at: new Date(now + hour) },
        {
          user_id: user,
          token_hash: hash(2),
          expires_at: new Date(now + hour),
          created_at: new Date(now - 2 * hour),
        },
      ])
      .execute();
    await sql`UPDATE password_resets SET expires_at = now() - interval '1 minute' WHERE token_hash = ${hash(2)}`.execute(
      db,
    );
    const consume = (tokenHash: string) =>
      db
        .updateTable("password_resets")
        .set({ consumed_at: sql<Date>`now()` })
        .where("token_hash", "=", tokenHash)
        .where("consumed_at", "is", null)
        .where("expires_at", ">", sql<Date>`now()`)
        .returning("user_id")
        .executeTakeFirst();
    expect(await consume(hash(1))).toEqual({ user_id: user });
    expect(await consume(hash(1))).toBeUndefined();
    expect(await consume(hash(2))).toBeUndefined();

    await expect(
      db
        .insertInto("password_resets")
        .values({ user_id: user, token_hash: hash(1), expires_at: new Date(now + hour) })
        .execute(),
    ).rejects.toMatchObject({ code: "23505", constraint: "password_resets_token_hash_key" });
    await expect(
      db
        .insertInto("email_verifications")
        .values({
          user_id: user,
          email: "tokens@example.com",
          token_hash: "raw-token",
          expires_at: new Date(now + hour),
        })
        .execute(),
    ).rejects.toMatchObject({ constraint: "email_verifications_token_hash_check" });
    await expect(
      db
        .insertInto("email_verifications")
        .values({
          user_id: user,
          email: "tokens@example.com",
          token_hash: hash(3),
          expires_at: new Date(now - hour),
        })
        .execute(),
    ).rejects.toMatchObject({ constraint: "email_verifications_expires_at_check" });
  });

  it("removes a user's identities and tokens with the user", async () => {
    const user = await newUser("cascade@example.com");
    await db
      .insertInto("identities")
      .values({ user_id: user, provider: "corp", subject: "cascade" })
      .execute();
    await db
      .insertInto("email_verifications")
      .values({
        user_id: user,
        email: "cascade@example.com",
        token_hash: hash(9),
        expires_at: new Date(Date.now() + hour),
      })
      .execute();
    await db.deleteFrom("users").where("id", "=", user).execute();
    const left = await Promise.all([
      db.selectFrom("identities").select("id").where("user_id", "=", user).execute(),
      db.selectFrom("email_verifications").select("id").where("user_id", "=", user).execute(),
    ]);
    expect(left).toEqual([[], []]);
  });

  it("stores the OIDC provider's payloads by model and id", async () => {
    const row = {
      model: "Session",
      id: "s1",
      payload: JSON.stringify({ accountId: "a", kind: "Session" }),
      uid: "u1",
      expires_at: new Date(Date.now() + hour),
    };
    await db.insertInto("oidc_payloads").values(row).execute();
    await db
      .insertInto("oidc_payloads")
      .values({ ...row, model: "Interaction" })
      .execute();
    await expect(db.insertInto("oidc_payloads").values(row).execute()).rejects.toMatchObject({
      constraint: "oidc_payloads_pkey",
    });
    const found = await db
      .selectFrom("oidc_payloads")
      .select("payload")
      .where("model", "=", "Session")
      .where("uid", "=", "u1")
      .executeTakeFirstOrThrow();
    expect(found.payload).toEqual({ accountId: "a", kind: "Session" });
  });

  it("keeps the read model unique by namespace and name, and specs as JSON objects", async () => {
    const api = {
      uid: "3f1c2a4e-0000-4000-8000-000000000001",
      namespace: "team-a",
      name: "petstore",
      portal: "portal",
      generation: 1,
      resource_version: "100",
      spec: JSON.stringify({ displayName: "Petstore" }),
      display_name: "Petstore",
      auth: "key-auth" as const,
      plans: ["basic"],
    };
    await db.insertInto("apis").values(api).execute();
    const row = await db.selectFrom("apis").selectAll().where("uid", "=", api.uid).executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      generation: "1",
      plans: ["basic"],
      tags: [],
      deprecated: false,
      description: "",
    });
    await expect(
      db
        .insertInto("apis")
        .values({ ...api, uid: "3f1c2a4e-0000-4000-8000-000000000002" })
        .execute(),
    ).rejects.toMatchObject({ code: "23505", constraint: "apis_namespace_name_key" });
    await expect(
      db
        .insertInto("apis")
        .values({ ...api, uid: "other", name: "other", spec: JSON.stringify(["not", "an", "object"]) })
        .execute(),
    ).rejects.toMatchObject({ constraint: "apis_spec_check" });
    await expect(
      sql`INSERT INTO clients (uid, namespace, name, portal, generation, resource_version, spec, display_name, owner, client_type)
          VALUES ('c1', 'team-a', 'app', 'portal', 1, '1', '{}', 'App', 'ada', 'secret')`.execute(db),
    ).rejects.toMatchObject({ constraint: "clients_client_type_check" });
  });

  it("claims a notification effect only once and records when it was sent", async () => {
    const effect = {
      effect_key: "subscription-approved/uid-1/1/email/ada@example.com",
      kind: "SubscriptionApproved",
      channel: "email" as const,
      target: "ada@example.com",
    };
    await db.insertInto("notification_ledger").values(effect).execute();
    const claimedAgain = await db
      .insertInto("notification_ledger")
      .values(effect)
      .onConflict((oc) => oc.column("effect_key").doNothing())
      .returning("effect_key")
      .executeTakeFirst();
    expect(claimedAgain).toBeUndefined();
    await expect(
      db
        .updateTable("notification_ledger")
        .set({ status: "sent" })
        .where("effect_key", "=", effect.effect_key)
        .execute(),
    ).rejects.toMatchObject({ constraint: "notification_ledger_sent_at_check" });
    await db
      .updateTable("notification_ledger")
      .set({ status: "sent", sent_at: new Date(), attempts: 1 })
      .where("effect_key", "=", effect.effect_key)
      .execute();
    await expect(
      sql`INSERT INTO notification_ledger (effect_key, kind, channel, target) VALUES ('k', 'Kind', 'pager', 'x')`.execute(
        db,
      ),
    ).rejects.toMatchObject({ constraint: "notification_ledger_channel_check" });
  });

  it("numbers audit log and outbox entries in insertion order", async () => {
    const first = await db
      .insertInto("outbox")
      .values({ event_type: "UserRegistered", aggregate: "u1" })
      .returning("id")
      .executeTakeFirstOrThrow();
    const second = await db
      .insertInto("outbox")
      .values({
        event_type: "UserRegistered",
        aggregate: "u2",
        payload: JSON.stringify({ email: "b@example.com" }),
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    expect(BigInt(second.id)).toBeGreaterThan(BigInt(first.id));
    await db.updateTable("outbox").set({ processed_at: new Date() }).where("id", "=", first.id).execute();
    const pending = await db
      .selectFrom("outbox")
      .select("aggregate")
      .where("processed_at", "is", null)
      .execute();
    expect(pending).toEqual([{ aggregate: "u2" }]);

    const entry = await db
      .insertInto("audit_log")
      .values({ actor: "ada", action: "subscription.approve", target_kind: "Subscription", target_name: "s" })
      .returningAll()
      .executeTakeFirstOrThrow();
    expect(entry).toMatchObject({ namespace: null, details: {} });
    expect(entry.at).toBeInstanceOf(Date);
  });
});
