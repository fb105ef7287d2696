/**
 * The password strength policy: pure, so the portal API, the auth server's sign-up page and the portal UI's
 * hints all say the same thing.
 */
import { MAX_PASSWORD_LENGTH } from "./password.ts";

/** What the policy needs to know. */
export interface PasswordPolicy {
  /** Minimum length (ApiPortal `login.local.passwordMinLength`, default 12). */
  minLength: number;
}

/** Passwords people pick first; refused whatever their length. */
const COMMON = new Set([
  "password",
  "password123",
  "passw0rd",
  "123456789012",
  "qwertyuiopas",
  "iloveyou1234",
  "letmein12345",
  "administrator",
  "welcome12345",
  "changeme1234",
]);

/**
 * The problems of a password, each a sentence telling the user what to change; empty when it is acceptable.
 * Length counts Unicode code points, so a passphrase in any script is measured fairly.
 */
export function passwordProblems(
  password: string,
  policy: PasswordPolicy,
  context: { email?: string } = {},
): string[] {
  const problems: string[] = [];
  const length = [...password].length;
  if (length < policy.minLength) {
    problems.push(`Use at least ${policy.minLength} characters (this one has ${length}).`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    problems.push(`Use at most ${MAX_PASSWORD_LENGTH} characters.`);
  }
  if (length > 0 && new Set(password).size < 5) {
    problems.push("Use at least 5 different characters.");
  }
  const lower = password.toLowerCase();
  if (COMMON.has(lower)) problems.push("This password is too common; choose another one.");
  const local = context.email?.split("@")[0]?.toLowerCase();
  if (local && local.length >= 3 && lower.includes(local)) {
    problems.push("Do not use your email address in your password.");
  }
  return problems;
}
