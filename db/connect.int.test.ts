import { sql } from "kysely";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../test/support/database.ts";
import { createDatabase } from "./connect.ts";

let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase(inject("databaseUrl"));
});

afterAll(async () => {
  await testDb?.drop();
});

it("names the application and bounds statements and idle transactions", async () => {
  const db = createDatabase(testDb.url, { applicationName: "wicked-operator", statementTimeoutMs: 1_500 });
  try {
    const { rows } = await sql<{ app: string; statement: string; idle: string }>`
      SELECT current_setting('application_name') AS app,
             current_setting('statement_timeout') AS statement,
             current_setting('idle_in_transaction_session_timeout') AS idle`.execute(db);
    expect(rows).toEqual([{ app: "wicked-operator", statement: "1500ms", idle: "1min" }]);
    await expect(sql`SELECT pg_sleep(5)`.execute(db)).rejects.toMatchObject({ code: "57014" });
  } finally {
    await db.destroy();
  }
});

it("defaults to the application name wicked and a 30 s statement timeout", async () => {
  const db = createDatabase(testDb.url);
  try {
    const { rows } = await sql<{ app: string; statement: string }>`
      SELECT current_setting('application_name') AS app,
             current_setting('statement_timeout') AS statement`.execute(db);
    expect(rows).toEqual([{ app: "wicked", statement: "30s" }]);
  } finally {
    await db.destroy();
  }
});
