import { describe, expect, it } from "vitest";
import { type AccountsContext, EMAIL_PATTERN, signUp } from "./service.ts";

/** Addresses that make a backtracking pattern with overlapping parts retry every split: dots and no end. */
const adversarial = [`a@${".".repeat(16_384)}@`, `a@${".a".repeat(8_192)}@`, `a@${"a.".repeat(8_192)} `];

/** Milliseconds the function takes; the quadratic pattern took 80–450 ms for these 16 KB inputs. */
function timed(run: () => unknown): number {
  const started = performance.now();
  run();
  return performance.now() - started;
}

describe("email addresses", () => {
  it("security #7: the email pattern takes linear time on a 16 KB adversarial address", () => {
    // Ajv compiles schema patterns with the u flag; the accounts code without it.
    for (const flags of ["", "u"]) {
      const pattern = new RegExp(EMAIL_PATTERN, flags);
      for (const input of adversarial) {
        let matched = true;
        expect(timed(() => (matched = pattern.test(input)))).toBeLessThan(50);
        expect(matched).toBe(false);
      }
    }
  });

  it("security #7: sign-up refuses a 16 KB adversarial address without running the pattern over it", async () => {
    for (const input of adversarial) {
      const started = performance.now();
      // The address is checked before anything else, so a context is never reached.
      const refusal = signUp({} as AccountsContext, {
        email: input,
        displayName: "Mallory",
        password: "correct horse battery staple",
      });
      await expect(refusal).rejects.toMatchObject({ code: "InvalidEmail" });
      expect(performance.now() - started).toBeLessThan(50);
    }
  });

  it("security #7: the email pattern accepts ordinary addresses and refuses empty domain labels", () => {
    const pattern = new RegExp(EMAIL_PATTERN, "u");
    for (const ok of ["jane@example.com", "jane.doe+shop@mail.example.co.uk", "o'brien@xn--bcher-kva.de"]) {
      expect(pattern.test(ok), ok).toBe(true);
    }
    for (const bad of [
      "jane@example",
      "jane@@example.com",
      "jane doe@example.com",
      "jane@example..com",
      "jane@.example.com",
      "jane@example.com.",
      "@example.com",
    ]) {
      expect(pattern.test(bad), bad).toBe(false);
    }
  });
});
