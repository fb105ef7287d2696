import { describe, expect, it } from "vitest";
import type { ApiPortal } from "../../api/v1alpha1/index.ts";
import {
  desiredSessionSecret,
  desiredSigningSecret,
  type KeyFactory,
  publicJwks,
  ROTATED_AT_ANNOTATION,
} from "./secrets.ts";

const portal = (rotationRequestedAt?: string): ApiPortal => ({
  apiVersion: "wicked.dev/v1alpha1",
  kind: "ApiPortal",
  metadata: { name: "p", namespace: "ns", uid: "u" },
  spec: {
    displayName: "P",
    urls: { portal: "https://p.example.com", gateway: "https://api.example.com" },
    database: { urlSecretRef: { name: "db", key: "url" } },
    gateway: {},
    ...(rotationRequestedAt ? { signingKeys: { rotationRequestedAt } } : {}),
  },
});

function counter(): KeyFactory & { keys: number } {
  const f = {
    keys: 0,
    randomBytes: (n: number) => Buffer.alloc(n, f.keys++),
    signingKey: () => ({
      kid: `k${++f.keys}`,
      kty: "RSA",
      alg: "RS256",
      use: "sig" as const,
      n: "modulus",
      e: "AQAB",
      d: "private",
    }),
  };
  return f;
}

const jwks = (s: { data?: Record<string, string> }) =>
  JSON.parse(Buffer.from(s.data?.["jwks.json"] ?? "", "base64").toString()).keys.map(
    (k: { kid: string }) => k.kid,
  );
const t0 = new Date("2026-01-01T00:00:00Z");

describe("generated secrets", () => {
  it("generates the session keys once and keeps them", () => {
    const keys = counter();
    const first = desiredSessionSecret(portal(), undefined, keys);
    const again = desiredSessionSecret(portal(), first, keys);
    expect(again.data).toEqual(first.data);
    expect(desiredSessionSecret(portal(), undefined, keys).data).not.toEqual(first.data);
  });

  it("rotates the signing key only when a later rotation is requested, keeping the previous key", () => {
    const keys = counter();
    const first = desiredSigningSecret(portal(), undefined, keys, t0);
    expect(jwks(first)).toEqual(["k1"]);
    expect(jwks(desiredSigningSecret(portal("2025-12-31T00:00:00Z"), first, keys, t0))).toEqual(["k1"]);
    const rotated = desiredSigningSecret(
      portal("2026-02-01T00:00:00Z"),
      first,
      keys,
      new Date("2026-02-02T00:00:00Z"),
    );
    expect(jwks(rotated)).toEqual(["k2", "k1"]);
    expect(
      jwks(
        desiredSigningSecret(portal("2026-02-01T00:00:00Z"), rotated, keys, new Date("2026-02-03T00:00:00Z")),
      ),
    ).toEqual(["k2", "k1"]);
    const third = desiredSigningSecret(
      portal("2026-03-01T00:00:00Z"),
      rotated,
      keys,
      new Date("2026-03-02T00:00:00Z"),
    );
    expect(jwks(third)).toEqual(["k3", "k2"]);
  });

  it("does not rotate again and again for a request dated in the future", () => {
    const keys = counter();
    const first = desiredSigningSecret(portal(), undefined, keys, t0);
    const rotated = desiredSigningSecret(portal("2026-06-01T00:00:00Z"), first, keys, t0);
    expect(rotated.metadata?.annotations?.[ROTATED_AT_ANNOTATION]).toBe("2026-06-01T00:00:00.000Z");
    expect(jwks(desiredSigningSecret(portal("2026-06-01T00:00:00Z"), rotated, keys, t0))).toEqual(
      jwks(rotated),
    );
  });

  it("publishes only the public members of the keys", () => {
    const secret = desiredSigningSecret(portal(), undefined, counter(), t0);
    expect(publicJwks(secret)).toEqual({
      keys: [{ kid: "k1", kty: "RSA", alg: "RS256", use: "sig", n: "modulus", e: "AQAB" }],
    });
  });
});
