import { describe, expect, it } from "vitest";
import { migrations } from "./index.ts";

describe("migrations", () => {
  const names = Object.keys(migrations);

  it("are named with a four-digit sequence number and a snake_case title", () => {
    for (const name of names) expect(name).toMatch(/^\d{4}_[a-z0-9]+(_[a-z0-9]+)*$/);
  });

  it("are listed in the order they apply, numbered without gaps", () => {
    expect(names).toEqual([...names].sort());
    expect(names.map((name) => Number(name.slice(0, 4)))).toEqual(names.map((_, i) => i + 1));
  });

  it("can each be undone", () => {
    for (const migration of Object.values(migrations)) {
      expect(migration.up).toBeTypeOf("function");
      expect(migration.down).toBeTypeOf("function");
    }
  });

  it("cannot be changed at run time", () => {
    expect(Object.isFrozen(migrations)).toBe(true);
  });
});
