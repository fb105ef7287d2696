/**
 * Password hashing with scrypt (node:crypto): memory-hard, no native add-on, stored as a PHC-style string
 * `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (salt and hash in unpadded base64), so the parameters travel with
 * each hash and can be raised later: `needsRehash` tells the login path to upgrade an old hash.
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** scrypt cost: N = 2^ln, block size r, parallelism p. */
export interface ScryptParams {
  ln: number;
  r: number;
  p: number;
}

/**
 * The cost new hashes get: N = 2^15, r = 8 (32 MiB and about 100 ms per hash on one core). Below OWASP's
 * 2^17 because a component runs in 256 MiB and several logins may hash at once; raise it with the memory
 * limit.
 */
export const DEFAULT_SCRYPT: ScryptParams = { ln: 15, r: 8, p: 1 };

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Longest password accepted: hashing cost grows with length, and nobody types more. */
export const MAX_PASSWORD_LENGTH = 1024;

/** A stored hash that is not a `$scrypt$` PHC string wicked wrote. */
export class UnsupportedHashError extends Error {
  override readonly name = "UnsupportedHashError";
}

/** Hashes a password for storage in `users.password_hash`. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params);
  return formatHash(params, salt, hash);
}

/**
 * Whether the password matches the stored hash, compared in constant time. Throws UnsupportedHashError for
 * a hash of another algorithm (the account then needs a password reset).
 */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  const actual = await derive(password, parsed.salt, parsed.params, parsed.hash.length);
  return actual.length === parsed.hash.length && timingSafeEqual(actual, parsed.hash);
}

/** Whether a stored hash was made with weaker parameters than `params`, so it should be replaced. */
export function needsRehash(stored: string, params: ScryptParams = DEFAULT_SCRYPT): boolean {
  const { params: used } = parseHash(stored);
  return used.ln < params.ln || used.r < params.r || used.p < params.p;
}

/** Builds the PHC string. */
export function formatHash(params: ScryptParams, salt: Buffer, hash: Buffer): string {
  const b64 = (b: Buffer) => b.toString("base64").replace(/=+$/, "");
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(hash)}`;
}

/** Splits a PHC string into its parameters, salt and hash. */
export function parseHash(stored: string): { params: ScryptParams; salt: Buffer; hash: Buffer } {
  const match = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(
    stored,
  );
  if (!match) {
    throw new UnsupportedHashError(
      "The stored password hash is not a $scrypt$ hash; the user has to reset their password.",
    );
  }
  const [, ln, r, p, salt, hash] = match;
  return {
    params: { ln: Number(ln), r: Number(r), p: Number(p) },
    salt: Buffer.from(salt ?? "", "base64"),
    hash: Buffer.from(hash ?? "", "base64"),
  };
}

function derive(password: string, salt: Buffer, params: ScryptParams, length = KEY_BYTES): Promise<Buffer> {
  const N = 2 ** params.ln;
  // scrypt needs 128 * N * r bytes; node refuses more than `maxmem` (32 MiB by default).
  const maxmem = 256 * N * params.r;
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFC"), salt, length, { N, r: params.r, p: params.p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}
