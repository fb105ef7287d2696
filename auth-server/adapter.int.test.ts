/** The Postgres adapter against a real database: the adapter interface node-oidc-provider relies on. */
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDatabase } from "../db/connect.ts";
import { migrateToLatest } from "../db/migrate.ts";
import type { Database } from "../db/schema.ts";
import { createTestDatabase, type TestDatabase } from "../test/support/database.ts";
import { countByModel, PostgresAdapter, purgeExpired } from "./adapter.ts";

let testDb: TestDatabase;
let db: Kysely<Database>;
let now = new Date("2030-01-01T00:00:00Z");
const clock = () => now;

beforeAll(async () => {
  testDb = await createTestDatabase(inject("databaseUrl"));
  db = createDatabase(testDb.url, { maxConnections: 2 });
  await migrateToLatest(db);
}, 120_000);

afterAll(async () => {
  await db?.destroy();
  await testDb?.drop();
});

describe("PostgresAdapter", () => {
  it("stores, finds and replaces an instance per model, keeping models apart", async () => {
    const codes = new PostgresAdapter(db, "AuthorizationCode", clock);
    const tokens = new PostgresAdapter(db, "AccessToken", clock);
    await codes.upsert("same-id", { kind: "AuthorizationCode", grantId: "g1", scope: "openid" }, 60);
    await tokens.upsert("same-id", { kind: "AccessToken", grantId: "g1" }, 60);
    expect(await codes.find("same-id")).toEqual({
      kind: "AuthorizationCode",
      grantId: "g1",
      scope: "openid",
    });
    expect(await tokens.find("same-id")).toEqual({ kind: "AccessToken", grantId: "g1" });
    await codes.upsert("same-id", { kind: "AuthorizationCode", grantId: "g1", scope: "openid email" }, 60);
    expect((await codes.find("same-id"))?.scope).toBe("openid email");
    expect(await codes.find("other")).toBeUndefined();
  });

  it("marks a consumed instance with the time it was consumed, and an upsert clears the mark", async () => {
    const codes = new PostgresAdapter(db, "AuthorizationCode", clock);
    await codes.upsert("c1", { kind: "AuthorizationCode" }, 60);
    await codes.consume("c1");
    expect((await codes.find("c1"))?.consumed).toBe(Math.floor(now.getTime() / 1000));
    await codes.upsert("c1", { kind: "AuthorizationCode" }, 60);
    expect((await codes.find("c1"))?.consumed).toBeUndefined();
  });

  it("reads expired instances as absent; instances without expiry stay", async () => {
    const sessions = new PostgresAdapter(db, "Session", clock);
    await sessions.upsert("s1", { uid: "u1", accountId: "a" }, 10);
    await sessions.upsert("forever", { uid: "u2" }, undefined);
    expect(await sessions.findByUid("u1")).toMatchObject({ accountId: "a" });
    now = new Date(now.getTime() + 11_000);
    expect(await sessions.find("s1")).toBeUndefined();
    expect(await sessions.findByUid("u1")).toBeUndefined();
    expect(await sessions.findByUid("u2")).toEqual({ uid: "u2" });
  });

  it("finds device codes by user code", async () => {
    const devices = new PostgresAdapter(db, "DeviceCode", clock);
    await devices.upsert("d1", { userCode: "ABCD-EFGH", grantId: "g9" }, 600);
    expect(await devices.findByUserCode("ABCD-EFGH")).toMatchObject({ grantId: "g9" });
    expect(await devices.findByUserCode("ZZZZ-ZZZZ")).toBeUndefined();
  });

  it("destroys one instance, and revokes every instance of a grant for its model only", async () => {
    const refresh = new PostgresAdapter(db, "RefreshToken", clock);
    const access = new PostgresAdapter(db, "AccessToken", clock);
    await refresh.upsert("r1", { grantId: "g2" }, 600);
    await refresh.upsert("r2", { grantId: "g2" }, 600);
    await refresh.upsert("r3", { grantId: "g3" }, 600);
    await access.upsert("a1", { grantId: "g2" }, 600);
    await refresh.revokeByGrantId("g2");
    expect(await refresh.find("r1")).toBeUndefined();
    expect(await refresh.find("r2")).toBeUndefined();
    expect(await refresh.find("r3")).toBeDefined();
    expect(await access.find("a1")).toBeDefined();
    await refresh.destroy("r3");
    expect(await refresh.find("r3")).toBeUndefined();
  });

  it("purges rows that expired more than the grace period ago", async () => {
    const interactions = new PostgresAdapter(db, "Interaction", clock);
    await interactions.upsert("i-old", { kind: "Interaction" }, 1);
    await interactions.upsert("i-new", { kind: "Interaction" }, 4 * 60 * 60);
    now = new Date(now.getTime() + 3 * 60 * 60 * 1000);
    const before = await countByModel(db);
    const purged = await purgeExpired(db, now);
    expect(purged).toBeGreaterThanOrEqual(1);
    const after = await countByModel(db);
    expect(after.Interaction ?? 0).toBe((before.Interaction ?? 0) - 1);
    expect(
      await db.selectFrom("oidc_payloads").select("id").where("id", "=", "i-new").executeTakeFirst(),
    ).toBeDefined();
  });
});
