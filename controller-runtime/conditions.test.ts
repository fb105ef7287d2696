import { describe, expect, it } from "vitest";
import {
  type Condition,
  findCondition,
  isConditionTrue,
  removeCondition,
  setCondition,
} from "./conditions.ts";

const t0 = new Date("2025-03-01T10:00:00.123Z");
const t1 = new Date("2025-03-01T11:30:00.999Z");

const ready = (
  status: Condition["status"],
  reason = "Available",
  message = "All good",
  observedGeneration = 1,
) => ({
  type: "Ready",
  status,
  reason,
  message,
  observedGeneration,
});

describe("setCondition", () => {
  it("adds a missing condition with lastTransitionTime in second precision", () => {
    const { conditions, changed } = setCondition([], ready("True"), t0);
    expect(changed).toBe(true);
    expect(conditions).toEqual([{ ...ready("True"), lastTransitionTime: "2025-03-01T10:00:00Z" }]);
  });

  it("reports no change and keeps lastTransitionTime when nothing changed", () => {
    const { conditions: first } = setCondition([], ready("True"), t0);
    const { conditions, changed } = setCondition(first, ready("True"), t1);
    expect(changed).toBe(false);
    expect(conditions).toEqual(first);
  });

  it("moves lastTransitionTime only when the status changes", () => {
    const { conditions: first } = setCondition([], ready("True"), t0);
    const reasonOnly = setCondition(first, ready("True", "StillAvailable", "Still good"), t1);
    expect(reasonOnly.changed).toBe(true);
    expect(reasonOnly.conditions[0]).toMatchObject({
      reason: "StillAvailable",
      lastTransitionTime: "2025-03-01T10:00:00Z",
    });
    const flipped = setCondition(reasonOnly.conditions, ready("False", "Unavailable", "Down"), t1);
    expect(flipped.changed).toBe(true);
    expect(flipped.conditions[0]).toMatchObject({
      status: "False",
      lastTransitionTime: "2025-03-01T11:30:00Z",
    });
  });

  it("counts a new observedGeneration as a change without moving lastTransitionTime", () => {
    const { conditions: first } = setCondition([], ready("True"), t0);
    const next = setCondition(first, { ...ready("True"), observedGeneration: 2 }, t1);
    expect(next.changed).toBe(true);
    expect(next.conditions[0]).toMatchObject({
      observedGeneration: 2,
      lastTransitionTime: "2025-03-01T10:00:00Z",
    });
  });

  it("leaves other conditions, their order, and the input list alone", () => {
    const db = {
      type: "DatabaseReady",
      status: "True" as const,
      reason: "Migrated",
      message: "",
      lastTransitionTime: "x",
    };
    const input = [db, { ...ready("True"), lastTransitionTime: "y" }];
    const frozen = structuredClone(input);
    const { conditions } = setCondition(input, ready("False"), t1);
    expect(input).toEqual(frozen);
    expect(conditions.map((c) => c.type)).toEqual(["DatabaseReady", "Ready"]);
    expect(conditions[0]).toBe(db);
  });
});

describe("findCondition and isConditionTrue", () => {
  const { conditions } = setCondition([], ready("True", "Available", "ok", 3), t0);

  it("finds by type", () => {
    expect(findCondition(conditions, "Ready")?.reason).toBe("Available");
    expect(findCondition(conditions, "Other")).toBeUndefined();
    expect(findCondition(undefined, "Ready")).toBeUndefined();
  });

  it("is true only for status True and, when asked, the current generation", () => {
    expect(isConditionTrue(conditions, "Ready")).toBe(true);
    expect(isConditionTrue(conditions, "Ready", 3)).toBe(true);
    expect(isConditionTrue(conditions, "Ready", 4)).toBe(false);
    expect(isConditionTrue(setCondition(conditions, ready("Unknown"), t1).conditions, "Ready")).toBe(false);
  });

  it("removes a condition and says whether it was there", () => {
    expect(removeCondition(conditions, "Ready")).toEqual({ conditions: [], changed: true });
    expect(removeCondition(conditions, "Other").changed).toBe(false);
  });
});
