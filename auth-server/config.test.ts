import { describe, expect, it } from "vitest";
import type { ApiPortal } from "../api/v1alpha1/index.ts";
import { componentConfig } from "../operator/apiportal/components.ts";
import { desiredSessionSecret, desiredSigningSecret } from "../operator/apiportal/secrets.ts";
import { cryptoKeys } from "../operator/controllers/apiportal.controller.ts";
import { ConfigError, parseAuthServerConfig } from "./config.ts";
import { firstPartyClientSecret, KeyMaterialError, parseAuthKeys } from "./keys.ts";
import { mountPath, portalUiRedirectUri } from "./provider.ts";

const portal: ApiPortal = {
  apiVersion: "wicked.dev/v1alpha1",
  kind: "ApiPortal",
  metadata: { name: "demo", namespace: "team" },
  spec: {
    displayName: "Demo",
    urls: { portal: "https://dev.example.com", gateway: "https://api.example.com" },
    database: { urlSecretRef: { name: "db", key: "url" } },
    gateway: { mode: "None" },
    login: {
      oidc: [
        {
          name: "corp",
          displayName: "Corp",
          issuer: "https://sso.example.com",
          clientId: "wicked",
          clientSecretRef: { name: "sso", key: "secret" },
        },
      ],
    },
  },
};

describe("the auth server's configuration and keys", () => {
  it("reads the configuration the operator renders, with the provider defaults", () => {
    const config = parseAuthServerConfig(JSON.parse(JSON.stringify(componentConfig(portal, "auth-server"))));
    expect(config.urls.auth).toBe("https://dev.example.com/auth");
    expect(config.login.providers).toEqual([
      expect.objectContaining({ name: "corp", scopes: ["openid", "email", "profile"], groupsClaim: null }),
    ]);
    expect(mountPath(config.urls.auth)).toBe("/auth");
    expect(portalUiRedirectUri(config)).toBe("https://dev.example.com/login/callback");
    expect(() => parseAuthServerConfig({ ...config, login: {} })).toThrow(ConfigError);
  });

  it("reads the Secrets the operator generates", () => {
    const session = desiredSessionSecret(portal, undefined, cryptoKeys);
    const signing = desiredSigningSecret(portal, undefined, cryptoKeys, new Date());
    const text = (s: typeof session, k: string) => Buffer.from(s.data?.[k] ?? "", "base64").toString("utf8");
    const keys = parseAuthKeys({
      jwks: text(signing, "jwks.json"),
      cookieKeys: text(session, "cookie-keys"),
      sessionKey: text(session, "session-key"),
    });
    expect(keys.jwks.keys).toHaveLength(1);
    expect(keys.jwks.keys[0]).toMatchObject({ alg: "RS256", kty: "RSA", use: "sig" });
    expect(keys.cookieKeys).toHaveLength(1);
    expect(() =>
      parseAuthKeys({ jwks: '{"keys":[]}', cookieKeys: '["k"]', sessionKey: "x".repeat(32) }),
    ).toThrow(KeyMaterialError);
    expect(() =>
      parseAuthKeys({ jwks: text(signing, "jwks.json"), cookieKeys: "[]", sessionKey: "x".repeat(32) }),
    ).toThrow(/cookie-keys/);
  });

  it("derives a stable first-party client secret per client from the session key", () => {
    const a = firstPartyClientSecret("a-session-key-of-some-length", "portal-ui");
    expect(a).toBe(firstPartyClientSecret("a-session-key-of-some-length", "portal-ui"));
    expect(a).not.toBe(firstPartyClientSecret("another-session-key-entirely", "portal-ui"));
    expect(a).not.toBe(firstPartyClientSecret("a-session-key-of-some-length", "portal-api"));
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
