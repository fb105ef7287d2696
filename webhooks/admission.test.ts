import { describe, expect, it } from "vitest";
import { admissionResponse, cleanWarning, pointerSegment, specUnchanged } from "./admission.ts";

describe("admissionResponse", () => {
  it("allows with warnings and a base64 JSON patch", () => {
    const review = admissionResponse({ uid: "u1" }, { denials: [], warnings: ["look\n  here"] }, [
      { op: "add", path: "/metadata/labels", value: { a: "b" } },
    ]);
    expect(review.response).toMatchObject({
      uid: "u1",
      allowed: true,
      warnings: ["look here"],
      patchType: "JSONPatch",
    });
    expect(JSON.parse(Buffer.from(review.response?.patch ?? "", "base64").toString())).toEqual([
      { op: "add", path: "/metadata/labels", value: { a: "b" } },
    ]);
  });

  it("denies with every reason in the status message, without warnings or a patch", () => {
    const review = admissionResponse({ uid: "u2" }, { denials: ["one", "two"], warnings: ["aside"] }, [
      { op: "add", path: "/x", value: 1 },
    ]);
    expect(review.response).toEqual({
      uid: "u2",
      allowed: false,
      status: { code: 422, reason: "Invalid", message: "one; two" },
    });
  });
});

describe("helpers", () => {
  it("shortens long warnings", () => {
    expect(cleanWarning("x".repeat(300))).toHaveLength(256);
  });

  it("escapes JSON pointer segments", () => {
    expect(pointerSegment("wicked.dev/api~x")).toBe("wicked.dev~1api~0x");
  });

  it("sees an unchanged spec only on UPDATE", () => {
    expect(specUnchanged("UPDATE", { spec: { a: 1, b: 2 } }, { spec: { b: 2, a: 1 } })).toBe(true);
    expect(specUnchanged("UPDATE", { spec: { a: 1 } }, { spec: { a: 2 } })).toBe(false);
    expect(specUnchanged("CREATE", { spec: { a: 1 } }, { spec: { a: 1 } })).toBe(false);
  });
});
