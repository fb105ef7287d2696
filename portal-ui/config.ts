/**
 * The portal UI's configuration: the `config.json` the operator renders into the component's ConfigMap
 * (operator/apiportal/components.ts `componentConfig(portal, "portal-ui")`), the keys mounted from the
 * portal's `<portal>-session` Secret, and the environment.
 */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Static, Type } from "typebox";
import { clientAddressKey } from "../component/client-address.ts";
import { ConfigError, checkConfig, PORTAL_FIELDS, readConfigFile } from "../component/config-file.ts";

const ContentPageSchema = Type.Object({
  slug: Type.String({ pattern: "^[a-z0-9][a-z0-9-]*$" }),
  title: Type.String({ minLength: 1 }),
  markdown: Type.Optional(Type.String()),
  configMapRef: Type.Optional(Type.Object({ name: Type.String(), key: Type.String() })),
});

/** The shape of the portal UI's config.json. */
export const PortalUiConfigSchema = Type.Object({
  ...PORTAL_FIELDS,
  branding: Type.Object({
    title: Type.Optional(Type.String()),
    logoUrl: Type.Optional(Type.String()),
    primaryColor: Type.Optional(Type.String()),
    footer: Type.Optional(Type.String()),
  }),
  contentPages: Type.Array(ContentPageSchema),
  login: Type.Object({
    local: Type.Object({ enabled: Type.Boolean(), allowSignup: Type.Boolean() }),
    providers: Type.Array(Type.Object({ name: Type.String(), displayName: Type.String() })),
  }),
});

/** The portal UI's configuration. */
export type PortalUiConfig = Static<typeof PortalUiConfigSchema>;
/** A content page of the ApiPortal. */
export type ContentPage = Static<typeof ContentPageSchema>;

/** The keys the portal UI runs with. */
export interface PortalUiSecrets {
  /** Keys that sign the UI's cookies; the first signs, all verify (rotation). */
  cookieKeys: string[];
  /** The portal UI's client secret at the auth server. */
  clientSecret: string;
  /**
   * Signs the browser addresses the UI forwards to the portal API (component/client-address.ts); without it
   * none are forwarded and the portal API counts every browser under the UI's address.
   */
  clientAddressKey?: string;
}

/** Checks a parsed config.json; throws ConfigError listing every problem. */
export function parsePortalUiConfig(json: unknown, source = "config.json"): PortalUiConfig {
  return checkConfig(PortalUiConfigSchema, "portal-ui", json, source);
}

/** Reads and checks the file WICKED_CONFIG names. */
export function readPortalUiConfig(path: string): PortalUiConfig {
  return readConfigFile(path, parsePortalUiConfig);
}

/** Client id of the portal UI at the auth server (auth-server/provider.ts PORTAL_UI_CLIENT_ID). */
export const PORTAL_UI_CLIENT_ID = "portal-ui";

/**
 * The portal UI's client secret, derived from the portal's session key exactly as the auth server derives it
 * (auth-server/keys.ts firstPartyClientSecret): both mount the same Secret, so the secret is never stored or
 * sent anywhere. A unit test holds the two derivations together.
 */
export function derivedClientSecret(sessionKey: string, clientId = PORTAL_UI_CLIENT_ID): string {
  return createHmac("sha256", sessionKey).update(`wicked/first-party-client/${clientId}`).digest("base64url");
}

/** Checks the contents of the mounted session Secret's files. */
export function parsePortalUiSecrets(files: { cookieKeys: string; sessionKey: string }): PortalUiSecrets {
  let cookieKeys: unknown;
  try {
    cookieKeys = JSON.parse(files.cookieKeys);
  } catch (err) {
    throw new ConfigError(`session/cookie-keys is not valid JSON: ${(err as Error).message}`);
  }
  if (
    !Array.isArray(cookieKeys) ||
    cookieKeys.length === 0 ||
    cookieKeys.some((k) => typeof k !== "string" || k.length < 16)
  ) {
    throw new ConfigError(
      "session/cookie-keys must be a JSON array of strings of at least 16 characters; let the operator regenerate the <portal>-session Secret.",
    );
  }
  const sessionKey = files.sessionKey.trim();
  if (sessionKey.length < 16) {
    throw new ConfigError(
      "session/session-key is missing or too short; let the operator regenerate the <portal>-session Secret.",
    );
  }
  return {
    cookieKeys: cookieKeys as string[],
    clientSecret: derivedClientSecret(sessionKey),
    clientAddressKey: clientAddressKey(sessionKey),
  };
}

/** Reads `<dir>/session/cookie-keys` and `<dir>/session/session-key` (WICKED_SECRETS_DIR). */
export function readPortalUiSecrets(dir: string): PortalUiSecrets {
  const read = (path: string) => {
    try {
      return readFileSync(join(dir, path), "utf8");
    } catch (err) {
      throw new ConfigError(
        `Could not read ${join(dir, path)} (${(err as Error).message}); the operator mounts the portal's Secrets under WICKED_SECRETS_DIR.`,
      );
    }
  };
  return parsePortalUiSecrets({
    cookieKeys: read("session/cookie-keys"),
    sessionKey: read("session/session-key"),
  });
}

export { ConfigError };
