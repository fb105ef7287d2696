import { describe, expect, it } from "vitest";
import { LABEL_VALUE_MAX, labelValue } from "./labels.ts";

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

describe("labelValue", () => {
  it("keeps values that fit", () => {
    expect(labelValue("orders")).toBe("orders");
    expect(labelValue("a".repeat(63))).toBe("a".repeat(63));
  });

  it("shortens longer values to a valid label value, distinct for distinct values", () => {
    const a = labelValue(`${"s".repeat(62)}.-a`);
    const b = labelValue(`${"s".repeat(62)}.-b`);
    expect(a).toHaveLength(LABEL_VALUE_MAX);
    expect(a).toMatch(LABEL_VALUE);
    expect(a).not.toBe(b);
    expect(labelValue(`${"s".repeat(62)}.-a`)).toBe(a);
  });
});
