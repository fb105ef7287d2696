/**
 * The auth server's key material from the mounted Secrets (WICKED_SECRETS_DIR): the private signing JWKS
 * (`signing/jwks.json`, the ApiPortal's `<portal>-signing-keys` Secret, current key first) and the cookie
 * keys (`session/cookie-keys`, a JSON array, and `session/session-key`, of the `<portal>-session` Secret).
 */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** A private JWK as the operator stores it. */
export interface PrivateJwk {
  kid: string;
  kty: string;
  alg: string;
  use?: string;
  [member: string]: unknown;
}

/** The keys the auth server runs with. */
export interface AuthKeys {
  /** Private signing keys, current first; the provider signs with the first of a matching algorithm. */
  jwks: { keys: PrivateJwk[] };
  /** Keys that sign cookies; the first signs, all verify (rotation). */
  cookieKeys: string[];
  /** The portal's session key, from which first-party client secrets are derived. */
  sessionKey: string;
}

/** A mounted Secret is missing or malformed. */
export class KeyMaterialError extends Error {
  override readonly name = "KeyMaterialError";
}

/** Reads the keys from `<dir>/signing/jwks.json` and `<dir>/session/{cookie-keys,session-key}`. */
export function readAuthKeys(dir: string): AuthKeys {
  const read = (path: string) => {
    try {
      return readFileSync(join(dir, path), "utf8");
    } catch (err) {
      throw new KeyMaterialError(
        `Could not read ${join(dir, path)} (${(err as Error).message}); the operator mounts the portal's Secrets under WICKED_SECRETS_DIR.`,
      );
    }
  };
  return parseAuthKeys({
    jwks: read("signing/jwks.json"),
    cookieKeys: read("session/cookie-keys"),
    sessionKey: read("session/session-key"),
  });
}

/** Checks the key files' contents. */
export function parseAuthKeys(files: { jwks: string; cookieKeys: string; sessionKey: string }): AuthKeys {
  let jwks: { keys?: unknown };
  let cookieKeys: unknown;
  try {
    jwks = JSON.parse(files.jwks) as { keys?: unknown };
    cookieKeys = JSON.parse(files.cookieKeys);
  } catch (err) {
    throw new KeyMaterialError(`The mounted key material is not valid JSON: ${(err as Error).message}`);
  }
  const keys = Array.isArray(jwks.keys) ? (jwks.keys as PrivateJwk[]) : [];
  if (keys.length === 0 || keys.some((k) => typeof k.kid !== "string" || typeof k.d !== "string")) {
    throw new KeyMaterialError(
      "signing/jwks.json holds no private signing keys ({keys: [private JWKs]}); let the operator regenerate the <portal>-signing-keys Secret.",
    );
  }
  if (
    !Array.isArray(cookieKeys) ||
    cookieKeys.length === 0 ||
    cookieKeys.some((k) => typeof k !== "string")
  ) {
    throw new KeyMaterialError("session/cookie-keys must be a JSON array of strings.");
  }
  const sessionKey = files.sessionKey.trim();
  if (sessionKey.length < 16) throw new KeyMaterialError("session/session-key is missing or too short.");
  return { jwks: { keys }, cookieKeys: cookieKeys as string[], sessionKey };
}

/**
 * The client secret of a first-party client (the portal UI), derived from the portal's session key: both the
 * auth server and the portal UI mount that Secret, so neither stores or transmits the client secret.
 */
export function firstPartyClientSecret(sessionKey: string, clientId: string): string {
  return createHmac("sha256", sessionKey).update(`wicked/first-party-client/${clientId}`).digest("base64url");
}
