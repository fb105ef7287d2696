import { describe, expect, it } from "vitest";
import { findUnstorableText } from "./text-guard.ts";

describe("text Postgres cannot store", () => {
  it("finds NUL characters and unpaired surrogates in strings and keys, by JSON pointer", () => {
    expect(findUnstorableText({ a: ["ok", "b\u0000c"] })).toBe("/a/1");
    expect(findUnstorableText({ name: "\ud800" })).toBe("/name");
    expect(findUnstorableText({ name: "x\udc00" })).toBe("/name");
    expect(findUnstorableText({ "k/\u0000": 1 })).toBe("/k~1\u0000");
    expect(findUnstorableText("\u0000")).toBe("/");
  });

  it("accepts valid Unicode, including astral characters as surrogate pairs", () => {
    expect(findUnstorableText({ name: "😀 Café 日本", n: 1, b: null, list: [true] })).toBeUndefined();
  });

  it("walks very deep values without exhausting the stack", () => {
    let deep: unknown = "\u0000";
    for (let i = 0; i < 50_000; i += 1) deep = [deep];
    expect(findUnstorableText(deep)).toMatch(/^(\/0)+$/);
  });
});
