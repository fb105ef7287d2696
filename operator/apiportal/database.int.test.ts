import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/support/database.ts";
import { PortalDatabases } from "./database.ts";

let testDb: TestDatabase;
const databases = new PortalDatabases();

beforeAll(async () => {
  testDb = await createTestDatabase(inject("databaseUrl"));
});
afterAll(async () => {
  await databases.close();
  await testDb.drop();
});

describe("PortalDatabases", () => {
  it("keeps a database's pool open when a migration fails, so the reconciles using it go on", async () => {
    const pool = databases.pool(testDb.url);
    // A table in the way of the migration ledger makes migrating fail.
    await sql`CREATE TABLE kysely_migration (unexpected int)`.execute(pool);
    const observation = await databases.migrate(testDb.url);
    expect(observation.status).toBe("False");
    await expect(sql`SELECT 1 AS one`.execute(pool)).resolves.toMatchObject({ rows: [{ one: 1 }] });
  });
});
