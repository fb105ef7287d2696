import type { Kysely, SelectType } from "kysely";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../test/support/database.ts";
import { createDatabase } from "./connect.ts";
import { migrateToLatest } from "./migrate.ts";
import type { Database } from "./schema.ts";

/** Whether a column may hold null, as the TypeScript type says. */
type Nullability<T> = null extends SelectType<T> ? "null" : "not null";

/**
 * Every column of every table with its nullability, checked by the compiler against db/schema.ts (a missing,
 * extra or differently nullable column does not compile) and by the test against the migrated database.
 */
const expected: { [T in keyof Database]: { [C in keyof Database[T]]-?: Nullability<Database[T][C]> } } = {
  users: {
    id: "not null",
    email: "not null",
    display_name: "not null",
    password_hash: "null",
    email_verified_at: "null",
    groups: "not null",
    is_admin: "not null",
    created_at: "not null",
    updated_at: "not null",
    deleted_at: "null",
  },
  identities: {
    id: "not null",
    user_id: "not null",
    provider: "not null",
    subject: "not null",
    email: "null",
    created_at: "not null",
    updated_at: "not null",
  },
  email_verifications: {
    id: "not null",
    user_id: "not null",
    email: "not null",
    password_hash: "null",
    token_hash: "not null",
    expires_at: "not null",
    consumed_at: "null",
    created_at: "not null",
  },
  password_resets: {
    id: "not null",
    user_id: "not null",
    token_hash: "not null",
    expires_at: "not null",
    consumed_at: "null",
    created_at: "not null",
  },
  oidc_payloads: {
    model: "not null",
    id: "not null",
    payload: "not null",
    grant_id: "null",
    user_code: "null",
    uid: "null",
    expires_at: "null",
    consumed_at: "null",
    created_at: "not null",
  },
  audit_log: {
    id: "not null",
    at: "not null",
    actor: "not null",
    action: "not null",
    target_kind: "not null",
    target_name: "not null",
    namespace: "null",
    details: "not null",
  },
  outbox: {
    id: "not null",
    event_type: "not null",
    aggregate: "not null",
    payload: "not null",
    created_at: "not null",
    processed_at: "null",
  },
  apis: {
    uid: "not null",
    namespace: "not null",
    name: "not null",
    portal: "not null",
    generation: "not null",
    resource_version: "not null",
    spec: "not null",
    updated_at: "not null",
    display_name: "not null",
    description: "not null",
    auth: "not null",
    required_group: "null",
    plans: "not null",
    tags: "not null",
    deprecated: "not null",
  },
  plans: {
    uid: "not null",
    namespace: "not null",
    name: "not null",
    portal: "not null",
    generation: "not null",
    resource_version: "not null",
    spec: "not null",
    updated_at: "not null",
    display_name: "not null",
    description: "not null",
    limits: "not null",
    requires_approval: "not null",
    required_group: "null",
  },
  clients: {
    uid: "not null",
    namespace: "not null",
    name: "not null",
    portal: "not null",
    generation: "not null",
    resource_version: "not null",
    spec: "not null",
    updated_at: "not null",
    display_name: "not null",
    owner: "not null",
    client_type: "not null",
    client_id: "null",
  },
  subscriptions: {
    uid: "not null",
    namespace: "not null",
    name: "not null",
    portal: "not null",
    generation: "not null",
    resource_version: "not null",
    spec: "not null",
    updated_at: "not null",
    client_name: "not null",
    api_name: "not null",
    plan_name: "not null",
    phase: "not null",
    approved: "null",
    credentials_secret: "null",
    owner: "not null",
  },
  notification_ledger: {
    effect_key: "not null",
    kind: "not null",
    channel: "not null",
    target: "not null",
    status: "not null",
    attempts: "not null",
    last_error: "null",
    created_at: "not null",
    sent_at: "null",
    portal: "not null",
    payload: "not null",
    outbox_id: "null",
    next_attempt_at: "not null",
    lease_holder: "null",
    lease_expires_at: "null",
    interrupted_attempts: "not null",
  },
};

let testDb: TestDatabase;
let db: Kysely<Database>;

beforeAll(async () => {
  testDb = await createTestDatabase(inject("databaseUrl"));
  db = createDatabase(testDb.url);
  await migrateToLatest(db);
});

afterAll(async () => {
  await db?.destroy();
  await testDb?.drop();
});

it("describes exactly the tables and columns the migrations create", async () => {
  const tables = await db.introspection.getTables();
  const actual = Object.fromEntries(
    tables.map((table) => [
      table.name,
      Object.fromEntries(table.columns.map((col) => [col.name, col.isNullable ? "null" : "not null"])),
    ]),
  );
  expect(actual).toEqual(expected);
});
