/**
 * Deterministic ids and names of the Kong entities wicked manages. Every entity's id is a UUID derived from
 * its natural key (RFC 9562 version 5: SHA-1 of a namespace and a name), so creating it is an idempotent
 * `PUT /{collection}/{id}`: a crash between the write and anything the operator records never leaves a
 * duplicate, and the ids can be computed without asking Kong (for example for Api status). Pure.
 */
import { createHash } from "node:crypto";

/** The UUID namespace of wicked's Kong ids (a fixed random UUID). */
const WICKED_KONG_NAMESPACE = "3b0f5c52-8d1e-4e37-9a4c-61f0d2b7a9e4";

/** Kong's limit on service and route names. */
export const KONG_NAME_MAX_LENGTH = 128;

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ""), "hex");
}

/** A version-5 UUID of `name` in the UUID namespace `namespace` (RFC 9562 §5.5). */
export function uuidV5(name: string, namespace: string): string {
  const hash = createHash("sha1").update(uuidBytes(namespace)).update(name, "utf8").digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  // One flat string: a template literal would keep five slices and the joins between them (ids are held
  // for every entity of every subscription).
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
}

/**
 * The id of the entity with natural key `key` in the portal `portalNamespace/portalName`. Including the
 * portal keeps two portals' entities apart in a shared Kong.
 */
export function kongId(portalNamespace: string, portalName: string, key: string): string {
  return uuidV5(`${portalNamespace}/${portalName}|${key}`, WICKED_KONG_NAMESPACE);
}

/**
 * A Kong name made of dot-separated parts, valid for services and routes (`[A-Za-z0-9._~-]`, at most 128
 * characters). Characters Kong refuses become `-`; a name that would be too long is cut and ends with a
 * hash of the full name, so it stays unique.
 */
export function kongName(...parts: string[]): string {
  const full = parts.map((p) => p.replace(/[^A-Za-z0-9._~-]/g, "-")).join(".");
  if (full.length <= KONG_NAME_MAX_LENGTH) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, 12);
  return `${full.slice(0, KONG_NAME_MAX_LENGTH - hash.length - 1)}.${hash}`;
}

/**
 * A short, non-reversible fingerprint of a credential, so a key-auth credential's natural key (and id) follows
 * its key without containing it: during a rotation the old and the new key are two credentials.
 */
export function credentialFingerprint(secret: string): string {
  return createHash("sha256").update("wicked-key-auth\0").update(secret, "utf8").digest("hex").slice(0, 16);
}
