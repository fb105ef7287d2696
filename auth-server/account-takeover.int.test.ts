/**
 * Account pre-hijacking (security review, finding 1): an address is only someone's once they proved it,
 * by a mailed link or through an identity provider that verified it. Local sign-ups that never proved their
 * address lose their password to the person who does.
 */
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type AccountsContext, authenticate, signUp, verifyEmail } from "../accounts/index.ts";
import { createDatabase } from "../db/connect.ts";
import { migrateToLatest } from "../db/migrate.ts";
import type { Database } from "../db/schema.ts";
import { createTestDatabase, type TestDatabase } from "../test/support/database.ts";
import { linkFederatedUser } from "./federation.ts";

const MALLORY = "mallory's own passphrase";
const VICTIM = "the victim's passphrase";
let testDb: TestDatabase;
let db: Kysely<Database>;
const ctx = (verification: boolean): AccountsContext => ({
  db,
  clock: () => new Date(),
  policy: { minLength: 12 },
  verification,
  scrypt: { ln: 10, r: 8, p: 1 },
});
const idp = (email: string) => ({
  provider: "corp",
  subject: `sub-${email}`,
  email,
  emailVerified: true,
  groups: [],
});
const link = (email: string) =>
  linkFederatedUser(db, idp(email), { mappings: [], now: new Date(), namespace: "shop" });
/** The token of the newest verification mail to `email`, from the outbox. */
const latestToken = async (email: string): Promise<string> => {
  const rows = await db.selectFrom("outbox").select("payload").orderBy("id", "desc").execute();
  const payload = rows
    .map((r) => r.payload as { email?: string; verifyToken?: string | null })
    .find((p) => p.email === email && p.verifyToken);
  if (!payload?.verifyToken) throw new Error(`no verification mail to ${email}`);
  return payload.verifyToken;
};

beforeAll(async () => {
  testDb = await createTestDatabase(inject("databaseUrl"));
  db = createDatabase(testDb.url, { maxConnections: 2 });
  await migrateToLatest(db);
});
afterAll(async () => {
  await db?.destroy();
  await testDb?.drop();
});

describe("a portal without mail (no verification)", () => {
  it("security #1: lets a sign-up log in, but does not count its address as proven", async () => {
    await signUp(ctx(false), { email: "nomail@example.com", displayName: "N", password: MALLORY });
    await expect(authenticate(ctx(false), "nomail@example.com", MALLORY)).resolves.toMatchObject({
      emailVerified: false,
    });
  });

  it("security #1: gives the account to the identity provider's user, and the sign-up's password stops working", async () => {
    await signUp(ctx(false), { email: "boss@example.com", displayName: "Mallory", password: MALLORY });
    await link("boss@example.com");
    await expect(authenticate(ctx(false), "boss@example.com", MALLORY)).rejects.toThrow(
      "Wrong email or password",
    );
  });
});

describe("a second sign-up of an address nobody proved yet", () => {
  it("security #1: activates the password of the link that was followed, not the one set first or last", async () => {
    await signUp(ctx(true), { email: "target@example.com", displayName: "Mallory", password: MALLORY });
    await signUp(ctx(true), { email: "target@example.com", displayName: "Vic", password: VICTIM });
    const victimsLink = await latestToken("target@example.com");
    // Mallory signs up once more, hoping her password is the one the victim's link confirms.
    await signUp(ctx(true), { email: "target@example.com", displayName: "Mallory", password: MALLORY });
    await verifyEmail(ctx(true), victimsLink);
    await expect(authenticate(ctx(true), "target@example.com", VICTIM)).resolves.toMatchObject({
      emailVerified: true,
    });
    await expect(authenticate(ctx(true), "target@example.com", MALLORY)).rejects.toThrow(
      "Wrong email or password",
    );
  });
});
