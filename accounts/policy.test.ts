import { describe, expect, it } from "vitest";
import { passwordProblems } from "./policy.ts";

const policy = { minLength: 12 };

describe("the password policy", () => {
  it("accepts a long passphrase", () => {
    expect(passwordProblems("correct horse battery staple", policy)).toEqual([]);
  });

  it("counts code points, so a passphrase in any script is measured fairly", () => {
    expect(passwordProblems("日本語のパスワードです", { minLength: 10 })).toEqual([]);
    expect(passwordProblems("😀😁😂😃😄", { minLength: 6 })).toEqual([
      expect.stringContaining("this one has 5"),
    ]);
  });

  it("says every problem of a bad password", () => {
    expect(passwordProblems("aaaa", policy)).toEqual([
      "Use at least 12 characters (this one has 4).",
      "Use at least 5 different characters.",
    ]);
  });

  it("refuses common passwords and ones containing the email's name", () => {
    expect(passwordProblems("Password123", { minLength: 8 })).toEqual([
      "This password is too common; choose another one.",
    ]);
    expect(passwordProblems("my-name-is-jane.doe!", policy, { email: "jane.doe@example.com" })).toEqual([
      "Do not use your email address in your password.",
    ]);
  });

  it("refuses passwords longer than hashing should take", () => {
    expect(passwordProblems("ab".repeat(600), policy)).toContain("Use at most 1024 characters.");
  });
});
