/**
 * Single-use tokens mailed to users (email verification, password reset): 256 random bits, sent raw, stored
 * only as a SHA-256 hex hash (the CHECK constraint on `token_hash` wants exactly that).
 */
import { createHash, randomBytes } from "node:crypto";

/** A new token and the hash to store. */
export function newToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString("base64url");
  return { token, hash: hashToken(token) };
}

/** The stored form of a token. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}
