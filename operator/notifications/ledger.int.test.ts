/**
 * The ledger and the outbox planner against a real Postgres: claims never overlap, expired claims are taken
 * over and counted, failures back off, planning twice plans nothing new, and one-time tokens leave the
 * outbox once their mail is done.
 */
import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { createDatabase } from "../../db/connect.ts";
import { migrateTo, migrateToLatest } from "../../db/migrate.ts";
import { appendOutbox } from "../../db/outbox.ts";
import type { Database } from "../../db/schema.ts";
import { createTestDatabase, type TestDatabase } from "../../test/support/database.ts";
import type { PlannedEffect, PlanningConfig } from "./effects.ts";
import { abandon, claimDue, ledgerSummary, markSent, recordEffects, release } from "./ledger.ts";
import { planOutbox } from "./outbox-planner.ts";

let testDb: TestDatabase;
let db: Kysely<Database>;
let other: Kysely<Database>;
const PORTAL = "ns/portal";
const user = { userId: "u1", email: "ada@example.com", displayName: "Ada" };
const config: PlanningConfig = { mail: true, chat: [{ name: "team", type: "Slack", events: ["SignedUp"] }] };

const effect = (n: number): PlannedEffect => ({
  key: `mail:welcome:${n}`,
  kind: "welcome",
  channel: "email",
  target: "ada@example.com",
  to: ["ada@example.com"],
  facts: { userName: "Ada" },
});

async function payloadOf(id: string): Promise<Record<string, unknown>> {
  const row = await db.selectFrom("outbox").select("payload").where("id", "=", id).executeTakeFirstOrThrow();
  return row.payload as Record<string, unknown>;
}

beforeAll(async () => {
  testDb = await createTestDatabase(inject("databaseUrl"));
  db = createDatabase(testDb.url);
  other = createDatabase(testDb.url);
  await migrateToLatest(db);
});

afterAll(async () => {
  await other?.destroy();
  await db?.destroy();
  await testDb?.drop();
});

beforeEach(async () => {
  await sql`TRUNCATE notification_ledger, outbox`.execute(db);
});

describe("the ledger", () => {
  it("records an effect once however often it is planned", async () => {
    expect(await recordEffects(db, PORTAL, [effect(1), effect(2)])).toBe(2);
    expect(await recordEffects(db, PORTAL, [effect(1), effect(2), effect(3)])).toBe(1);
    const rows = await db
      .selectFrom("notification_ledger")
      .select(["effect_key", "status", "portal"])
      .execute();
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.status === "pending" && r.portal === PORTAL)).toBe(true);
  });

  it("never hands the same effect to two concurrent senders", async () => {
    await recordEffects(
      db,
      PORTAL,
      Array.from({ length: 30 }, (_, i) => effect(i)),
    );
    const rounds = await Promise.all([
      claimDue(db, PORTAL, "a", 60_000, 12),
      claimDue(other, PORTAL, "b", 60_000, 12),
      claimDue(db, PORTAL, "c", 60_000, 12),
    ]);
    const keys = rounds.flat().map((c) => c.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBeLessThanOrEqual(30);
    // Whatever the three left over is claimable; nothing is claimed twice.
    const rest = await claimDue(other, PORTAL, "d", 60_000, 30);
    expect(new Set([...keys, ...rest.map((c) => c.key)]).size).toBe(30);
    expect(await claimDue(db, PORTAL, "e", 60_000, 30)).toEqual([]);
    expect(await claimDue(db, "ns/other-portal", "e", 60_000, 30)).toEqual([]);
  });

  it("lets another sender take over an expired claim and counts the interruption", async () => {
    await recordEffects(db, PORTAL, [effect(1)]);
    const [first] = await claimDue(db, PORTAL, "dead", 200, 1);
    expect(first).toMatchObject({ attempts: 1, interrupted: false });
    expect(await claimDue(db, PORTAL, "b", 60_000, 1)).toEqual([]);
    await new Promise((r) => setTimeout(r, 400));
    const [again] = await claimDue(db, PORTAL, "b", 60_000, 1);
    expect(again).toMatchObject({ key: "mail:welcome:1", attempts: 2, interrupted: true });
    const row = await db.selectFrom("notification_ledger").selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ interrupted_attempts: 1, lease_holder: "b", status: "sending" });
  });

  it("puts a failed effect back with a delay and the error, and only the holder can", async () => {
    await recordEffects(db, PORTAL, [effect(1)]);
    await claimDue(db, PORTAL, "a", 60_000, 1);
    await release(db, "mail:welcome:1", "intruder", 0, "not mine");
    expect(
      (await db.selectFrom("notification_ledger").select("status").executeTakeFirstOrThrow()).status,
    ).toBe("sending");
    await release(db, "mail:welcome:1", "a", 60_000, "Cannot reach the SMTP server");
    expect(await claimDue(db, PORTAL, "a", 60_000, 1)).toEqual([]);
    const summary = await ledgerSummary(db, PORTAL);
    expect(summary).toMatchObject({
      pending: 1,
      failing: 1,
      failures: [{ channel: "email", target: "", error: "Cannot reach the SMTP server" }],
    });
    expect(summary.nextDueAt?.getTime()).toBeGreaterThan(Date.now() + 30_000);
  });

  it("marks an effect sent for good, even if its claim was lost meanwhile", async () => {
    await recordEffects(db, PORTAL, [effect(1)]);
    await claimDue(db, PORTAL, "a", 60_000, 1);
    await markSent(db, "mail:welcome:1");
    const row = await db.selectFrom("notification_ledger").selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      status: "sent",
      lease_holder: null,
      lease_expires_at: null,
      last_error: null,
    });
    expect(row.sent_at).toBeInstanceOf(Date);
    expect(await claimDue(db, PORTAL, "a", 60_000, 1)).toEqual([]);
    expect(await ledgerSummary(db, PORTAL)).toEqual({ pending: 0, failing: 0, failures: [] });
  });
});

describe("planOutbox", () => {
  it("plans each event's effects once and marks the events processed", async () => {
    const signup = await appendOutbox(db, { type: "UserSignedUp", verifyToken: "tok-1", ...user });
    await appendOutbox(db, { type: "UserVerified", ...user });
    expect(await planOutbox(db, PORTAL, config, 86_400_000, 100)).toEqual({
      processed: 2,
      planned: 3,
      skippedStale: 0,
    });
    expect(await planOutbox(db, PORTAL, config, 86_400_000, 100)).toEqual({
      processed: 0,
      planned: 0,
      skippedStale: 0,
    });
    const keys = (
      await db.selectFrom("notification_ledger").select("effect_key").orderBy("effect_key").execute()
    ).map((r) => r.effect_key);
    expect(keys).toEqual([
      `chat:team:${signup}`,
      `mail:verify-email:${signup}`,
      `mail:welcome:${Number(signup) + 1}`,
    ]);
    // The token stays until its mail is delivered, then goes.
    expect((await payloadOf(signup)).verifyToken).toBe("tok-1");
    await markSent(db, `mail:verify-email:${signup}`, signup);
    expect((await payloadOf(signup)).verifyToken).toBeNull();
  });

  it("removes the token at once when no mail will use it, and when a mail is given up", async () => {
    const noMail = await appendOutbox(db, { type: "PasswordResetRequested", resetToken: "r-1", ...user });
    await planOutbox(db, PORTAL, { mail: false, chat: [] }, 86_400_000, 100);
    expect((await payloadOf(noMail)).resetToken).toBeNull();

    const refused = await appendOutbox(db, { type: "PasswordResetRequested", resetToken: "r-2", ...user });
    await planOutbox(db, PORTAL, config, 86_400_000, 100);
    await abandon(db, `mail:password-reset:${refused}`, "550 no such user", refused);
    expect((await payloadOf(refused)).resetToken).toBeNull();
    expect(
      (
        await db
          .selectFrom("notification_ledger")
          .select("status")
          .where("effect_key", "=", `mail:password-reset:${refused}`)
          .executeTakeFirstOrThrow()
      ).status,
    ).toBe("failed");
  });

  it("processes events older than the horizon without notifying anyone", async () => {
    const old = await appendOutbox(db, { type: "UserVerified", ...user });
    await db
      .updateTable("outbox")
      .set({ created_at: new Date(Date.now() - 3 * 86_400_000) })
      .where("id", "=", old)
      .execute();
    expect(await planOutbox(db, PORTAL, config, 86_400_000, 100)).toEqual({
      processed: 1,
      planned: 0,
      skippedStale: 1,
    });
  });

  it("lets two planners share the outbox without planning an event twice", async () => {
    for (let i = 0; i < 40; i++) await appendOutbox(db, { type: "UserVerified", ...user, userId: `u${i}` });
    const results = await Promise.all([
      planOutbox(db, PORTAL, config, 86_400_000, 15),
      planOutbox(other, PORTAL, config, 86_400_000, 15),
    ]);
    const processed = results.reduce((n, r) => n + r.processed, 0);
    const planned = results.reduce((n, r) => n + r.planned, 0);
    expect(planned).toBe(processed);
    await planOutbox(db, PORTAL, config, 86_400_000, 100);
    expect(
      Number(
        (await sql<{ n: string }>`SELECT count(*) AS n FROM notification_ledger`.execute(db)).rows[0]?.n,
      ),
    ).toBe(40);
  });
});

describe("migration 0002_notification_delivery", () => {
  it("can be undone with a claim in flight and applied again", async () => {
    await recordEffects(db, PORTAL, [effect(1), effect(2)]);
    await claimDue(db, PORTAL, "a", 60_000, 1);
    await markSent(db, "mail:welcome:2");
    await migrateTo(db, "0001_initial");
    const old = await sql<{ effect_key: string; status: string }>`
      SELECT effect_key, status FROM notification_ledger ORDER BY effect_key`.execute(db);
    expect(old.rows).toEqual([
      { effect_key: "mail:welcome:1", status: "pending" },
      { effect_key: "mail:welcome:2", status: "sent" },
    ]);
    await migrateToLatest(db);
    const [claimed] = await claimDue(db, PORTAL, "b", 60_000, 5);
    expect(claimed?.key).toBe("mail:welcome:1");
  });
});
