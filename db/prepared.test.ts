import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  sql,
} from "kysely";
import { describe, expect, it } from "vitest";
import { preparedQuery } from "./prepared.ts";
import type { Database } from "./schema.ts";

const db = new Kysely<Database>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (k) => new PostgresIntrospector(k),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

describe("prepared queries", () => {
  const users = (v: { id: string; groups: string[]; limit: number }, withGroups: boolean) => {
    let query = db
      .selectFrom("users")
      .select(["id", "email"])
      .where("id", "=", v.id)
      .where("deleted_at", "is", null);
    if (withGroups) query = query.where(sql<boolean>`groups && ${sql.val(v.groups)}::text[]`);
    return query.where("email", "<>", "nobody@example.com").limit(v.limit);
  };

  it("runs the SQL kysely compiles for the same values, building each shape once", () => {
    const prepared = preparedQuery<{ id: string; groups: string[]; limit: number }>();
    let builds = 0;
    for (const values of [
      { id: "a", groups: ["x"], limit: 5 },
      { id: "b", groups: ["y", "z"], limit: 7 },
    ]) {
      for (const withGroups of [true, false]) {
        const compiled = prepared(withGroups ? "groups" : "plain", values, (v) => {
          builds += 1;
          return users(v, withGroups);
        });
        const direct = users(values, withGroups).compile();
        expect(compiled.sql).toBe(direct.sql);
        expect(compiled.parameters).toEqual(direct.parameters);
      }
    }
    expect(builds).toBe(2);
  });
});
