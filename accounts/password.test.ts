import { describe, expect, it } from "vitest";
import {
  formatHash,
  hashPassword,
  needsRehash,
  parseHash,
  UnsupportedHashError,
  verifyPassword,
} from "./password.ts";

const FAST = { ln: 10, r: 8, p: 1 };

describe("scrypt password hashes", () => {
  it("stores a PHC string with the parameters, a fresh salt and no trace of the password", async () => {
    const a = await hashPassword("correct horse battery staple", FAST);
    const b = await hashPassword("correct horse battery staple", FAST);
    expect(a).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain("horse");
  });

  it("verifies the right password and refuses a wrong one", async () => {
    const stored = await hashPassword("correct horse battery staple", FAST);
    expect(await verifyPassword(stored, "correct horse battery staple")).toBe(true);
    expect(await verifyPassword(stored, "correct horse battery stapl")).toBe(false);
    expect(await verifyPassword(stored, "")).toBe(false);
  });

  it("treats canonically equivalent Unicode the same (NFC)", async () => {
    const stored = await hashPassword("caf\u00e9 au lait please", FAST);
    expect(await verifyPassword(stored, "cafe\u0301 au lait please")).toBe(true);
  });

  it("uses the memory-hard default cost when none is given", async () => {
    const stored = await hashPassword("a default cost passphrase");
    expect(parseHash(stored).params).toEqual({ ln: 15, r: 8, p: 1 });
    expect(await verifyPassword(stored, "a default cost passphrase")).toBe(true);
  });

  it("asks for a rehash when a hash was made with a lower cost", () => {
    const weak = formatHash({ ln: 10, r: 8, p: 1 }, Buffer.alloc(16), Buffer.alloc(32));
    expect(needsRehash(weak)).toBe(true);
    expect(needsRehash(weak, { ln: 10, r: 8, p: 1 })).toBe(false);
  });

  it("refuses hashes of other algorithms with an error that says what to do", async () => {
    await expect(verifyPassword("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", "x")).rejects.toThrow(
      UnsupportedHashError,
    );
    expect(() => parseHash("plaintext")).toThrow(/reset their password/);
  });
});
