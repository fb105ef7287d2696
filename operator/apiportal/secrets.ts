/**
 * The portal's generated Secrets: session keys and the auth server's token signing keys (a JWKS). They are
 * generated once and never regenerated; the signing keys rotate when spec.signingKeys.rotationRequestedAt
 * is later than the last rotation, keeping the previous key published so tokens it signed still verify.
 * Pure: randomness and key generation are passed in.
 */
import { createHash } from "node:crypto";
import type { V1Secret } from "@kubernetes/client-node";
import type { ApiPortal } from "../../api/v1alpha1/index.ts";
import { childMetadata, childName } from "./components.ts";

/** Annotation on the signing Secret: when its current key was created. */
export const ROTATED_AT_ANNOTATION = "wicked.dev/signing-key-rotated-at";
/** Keys kept in the JWKS: the current one and the previous one. */
export const KEPT_SIGNING_KEYS = 2;

/** A private JSON Web Key as stored in the signing Secret. */
export interface SigningJwk {
  kid: string;
  kty: string;
  alg: string;
  use: "sig";
  [member: string]: unknown;
}

/** Sources of randomness, injected so the functions stay pure. */
export interface KeyFactory {
  randomBytes(n: number): Buffer;
  signingKey(): SigningJwk;
}

function decode(secret: V1Secret | undefined, key: string): string | undefined {
  const value = secret?.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
}

function secretObject(
  portal: ApiPortal,
  suffix: string,
  data: Record<string, string>,
  annotations?: Record<string, string>,
): V1Secret {
  const metadata = childMetadata(portal, childName(portal, suffix), "portal");
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: annotations ? { ...metadata, annotations } : metadata,
    type: "Opaque",
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
  };
}

/** A hash of a Secret's data, for pod template annotations; it reveals nothing about the data. */
export function secretHash(secret: V1Secret): string {
  return createHash("sha256")
    .update(JSON.stringify(secret.data ?? {}))
    .digest("hex")
    .slice(0, 16);
}

/** The session Secret: cookie signing keys of the portal UI, API and auth server. Kept once generated. */
export function desiredSessionSecret(
  portal: ApiPortal,
  existing: V1Secret | undefined,
  keys: KeyFactory,
): V1Secret {
  const sessionKey = decode(existing, "session-key") ?? keys.randomBytes(32).toString("base64url");
  const cookieKeys =
    decode(existing, "cookie-keys") ?? JSON.stringify([keys.randomBytes(32).toString("base64url")]);
  return secretObject(portal, "session", { "session-key": sessionKey, "cookie-keys": cookieKeys });
}

/** The signing Secret: the auth server's private JWKS, current key first. */
export function desiredSigningSecret(
  portal: ApiPortal,
  existing: V1Secret | undefined,
  keys: KeyFactory,
  now: Date,
): V1Secret {
  const stored = decode(existing, "jwks.json");
  const current: SigningJwk[] = stored ? (JSON.parse(stored) as { keys: SigningJwk[] }).keys : [];
  const rotatedAt = existing?.metadata?.annotations?.[ROTATED_AT_ANNOTATION];
  const requested = portal.spec.signingKeys?.rotationRequestedAt;
  const rotate =
    current.length === 0 ||
    (requested !== undefined && (rotatedAt === undefined || Date.parse(requested) > Date.parse(rotatedAt)));
  const jwks = rotate ? [keys.signingKey(), ...current].slice(0, KEPT_SIGNING_KEYS) : current;
  // A request dated in the future counts as done once honoured, or every reconcile until then would rotate.
  const rotationTime =
    requested !== undefined && Date.parse(requested) > now.getTime() ? new Date(requested) : now;
  const annotation = rotate ? rotationTime.toISOString() : (rotatedAt ?? now.toISOString());
  return secretObject(
    portal,
    "signing-keys",
    { "jwks.json": JSON.stringify({ keys: jwks }) },
    { [ROTATED_AT_ANNOTATION]: annotation },
  );
}

/** The public half of the signing keys, as published at the auth server's JWKS endpoint and given to Kong. */
export function publicJwks(secret: V1Secret): { keys: Array<Record<string, unknown>> } {
  const stored = decode(secret, "jwks.json");
  const keys = stored ? (JSON.parse(stored) as { keys: SigningJwk[] }).keys : [];
  return {
    keys: keys
      .map(({ kid, kty, alg, use, n, e, crv, x, y }) => ({ kid, kty, alg, use, n, e, crv, x, y }))
      .map((k) => Object.fromEntries(Object.entries(k).filter(([, v]) => v !== undefined))),
  };
}
