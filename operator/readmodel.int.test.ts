import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Plan } from "../api/v1alpha1/index.ts";
import { createDatabase } from "../db/connect.ts";
import { migrateToLatest } from "../db/migrate.ts";
import type { Database } from "../db/schema.ts";
import { createTestDatabase, type TestDatabase } from "../test/support/database.ts";
import { deleteRow, planRow, upsertRow } from "./readmodel.ts";

let testDb: TestDatabase;
let db: Kysely<Database>;

beforeAll(async () => {
  testDb = await createTestDatabase(inject("databaseUrl"));
  db = createDatabase(testDb.url, { applicationName: "wicked-readmodel-test" });
  await migrateToLatest(db);
});

afterAll(async () => {
  await db?.destroy();
  await testDb?.drop();
});

const plan = (uid: string, resourceVersion: string, displayName: string): Plan => ({
  apiVersion: "wicked.dev/v1alpha1",
  kind: "Plan",
  metadata: { namespace: "shop", name: "gold", uid, resourceVersion, generation: 1 },
  spec: { displayName },
});

const rows = () =>
  db.selectFrom("plans").select(["uid", "display_name", "resource_version"]).orderBy("uid").execute();

describe("the read model's rows", () => {
  it("are written once per change: the same row again (only its resourceVersion moved) costs no write", async () => {
    await upsertRow(db, "plans", planRow(plan("uid-1", "1", "Gold"), "portal"));
    // Changed behind the operator's back: a second upsert of the same row does not even look.
    await db.updateTable("plans").set({ display_name: "edited by hand" }).execute();
    await upsertRow(db, "plans", planRow(plan("uid-1", "2", "Gold"), "portal"));
    expect(await rows()).toEqual([{ uid: "uid-1", display_name: "edited by hand", resource_version: "1" }]);
    await upsertRow(db, "plans", planRow(plan("uid-1", "3", "Gold plus"), "portal"));
    expect(await rows()).toEqual([{ uid: "uid-1", display_name: "Gold plus", resource_version: "3" }]);
  });

  it("take new content although the resourceVersion is the same (a reconcile from a cache one write behind)", async () => {
    await deleteRow(db, "plans", "shop", "gold");
    await upsertRow(db, "plans", planRow(plan("uid-3", "7", "Provisioning"), "portal"));
    await upsertRow(db, "plans", planRow(plan("uid-3", "7", "Active"), "portal"));
    // The next reconcile, at the next resourceVersion, writes the same content: skipped, and the row is right.
    await upsertRow(db, "plans", planRow(plan("uid-3", "8", "Active"), "portal"));
    expect(await rows()).toEqual([{ uid: "uid-3", display_name: "Active", resource_version: "7" }]);
    await deleteRow(db, "plans", "shop", "gold");
  });

  it("replace the row of a resource recreated under the same name, and follow a delete", async () => {
    await upsertRow(db, "plans", planRow(plan("uid-2", "4", "Gold again"), "portal"));
    expect(await rows()).toEqual([{ uid: "uid-2", display_name: "Gold again", resource_version: "4" }]);
    await deleteRow(db, "plans", "shop", "gold");
    expect(await rows()).toEqual([]);
    // Deleted, so written again although the row is the same as the last one written.
    await upsertRow(db, "plans", planRow(plan("uid-2", "4", "Gold again"), "portal"));
    expect(await rows()).toHaveLength(1);
  });
});
