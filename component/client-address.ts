/**
 * The browser's address, forwarded by the portal UI to the portal API so that the API's per-address limits
 * count browsers, not the UI. X-Forwarded-For cannot carry it safely: the UI reaches the API at `urls.api`,
 * through the ingress, which appends the UI's own address (so the UI's entry is not the trusted last hop),
 * and trusting one more hop would let any internet caller pick their address. Instead the UI signs the
 * address with a key derived from the portal's session key, which both components mount and nobody else
 * holds; the API believes a forwarded address only with that signature.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";

/** The browser's address as the portal UI saw it. */
export const CLIENT_ADDRESS_HEADER = "x-wicked-client-address";
/** HMAC-SHA256 of the address under the client address key, unpadded base64url. */
export const CLIENT_SIGNATURE_HEADER = "x-wicked-client-address-signature";

/**
 * The key that signs forwarded client addresses, derived from the portal's session key (the `<portal>-session`
 * Secret's `session-key`) for this purpose only.
 */
export function clientAddressKey(sessionKey: string): string {
  return createHmac("sha256", sessionKey.trim()).update("wicked/client-address").digest("base64url");
}

/** Reads `<dir>/session/session-key` (WICKED_SECRETS_DIR) and derives the client address key from it. */
export function readClientAddressKey(dir: string): string {
  const path = join(dir, "session", "session-key");
  let sessionKey: string;
  try {
    sessionKey = readFileSync(path, "utf8").trim();
  } catch (err) {
    throw new Error(
      `Could not read ${path} (${(err as Error).message}); the operator mounts the portal's <portal>-session Secret under WICKED_SECRETS_DIR.`,
    );
  }
  if (sessionKey.length < 16)
    throw new Error(`${path} is too short; let the operator regenerate the <portal>-session Secret.`);
  return clientAddressKey(sessionKey);
}

function sign(key: string, address: string): string {
  return createHmac("sha256", key).update(address).digest("base64url");
}

/** The headers that forward a browser's address to the portal API. */
export function forwardedClientHeaders(key: string, address: string): Record<string, string> {
  return { [CLIENT_ADDRESS_HEADER]: address, [CLIENT_SIGNATURE_HEADER]: sign(key, address) };
}

/**
 * The client address a request forwards: `address` when it carries one signed with `key`, `invalid` when it
 * carries one that is not (forged, or signed with another portal's key), nothing when it carries none or
 * there is no key to check it with.
 */
export function forwardedClientAddress(
  headers: Record<string, string | string[] | undefined>,
  key: string | undefined,
): { address?: string; invalid?: true } {
  const address = headers[CLIENT_ADDRESS_HEADER];
  if (key === undefined || address === undefined) return {};
  const signature = headers[CLIENT_SIGNATURE_HEADER];
  if (typeof address !== "string" || typeof signature !== "string" || isIP(address) === 0)
    return { invalid: true };
  const expected = Buffer.from(sign(key, address));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected)
    ? { address }
    : { invalid: true };
}
