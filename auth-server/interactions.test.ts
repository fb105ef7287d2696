import { describe, expect, it } from "vitest";
import { hasUnstorableText } from "./interactions.ts";

describe("form text the database cannot store", () => {
  it("is found in values, repeated values and keys", () => {
    expect(hasUnstorableText({ email: "a\u0000@example.com" })).toBe(true);
    expect(hasUnstorableText({ email: ["ok@example.com", "\ud800"] })).toBe(true);
    expect(hasUnstorableText({ "x\u0000": "y" })).toBe(true);
  });

  it("is not found in ordinary forms, or when there is no form", () => {
    expect(hasUnstorableText({ email: "jane@example.com", password: "😀 pässwörd" })).toBe(false);
    expect(hasUnstorableText(undefined)).toBe(false);
  });
});
