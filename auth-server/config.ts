/**
 * The auth server's configuration: the `config.json` the operator renders into the component's ConfigMap
 * (operator/apiportal/components.ts `componentConfig(portal, "auth-server")`) plus the environment.
 */
import { readFileSync } from "node:fs";
import { type Static, Type } from "typebox";
import { Value } from "typebox/value";

const SecretKeyRef = Type.Object({ name: Type.String({ minLength: 1 }), key: Type.String({ minLength: 1 }) });

/** An upstream OpenID Connect provider users can log in through. */
export const UpstreamProviderSchema = Type.Object({
  name: Type.String({ pattern: "^[a-z][a-z0-9-]*$" }),
  displayName: Type.String({ minLength: 1 }),
  issuer: Type.String({ minLength: 1 }),
  clientId: Type.String({ minLength: 1 }),
  clientSecretRef: SecretKeyRef,
  scopes: Type.Array(Type.String()),
  groupsClaim: Type.Union([Type.String(), Type.Null()]),
});

/** The shape of the auth server's config.json. */
export const AuthServerConfigSchema = Type.Object({
  portal: Type.Object({ namespace: Type.String({ minLength: 1 }), name: Type.String({ minLength: 1 }) }),
  displayName: Type.String(),
  urls: Type.Object({
    portal: Type.String({ minLength: 1 }),
    api: Type.String({ minLength: 1 }),
    auth: Type.String({ minLength: 1 }),
    gateway: Type.String({ minLength: 1 }),
  }),
  groups: Type.Object({
    admin: Type.String({ minLength: 1 }),
    approver: Type.String({ minLength: 1 }),
    mappings: Type.Array(Type.Object({ idpGroup: Type.String(), group: Type.String() })),
  }),
  login: Type.Object({
    local: Type.Object({
      enabled: Type.Boolean(),
      allowSignup: Type.Boolean(),
      passwordMinLength: Type.Integer({ minimum: 1 }),
    }),
    providers: Type.Array(UpstreamProviderSchema),
  }),
  /**
   * Whether mail is configured (new local accounts must verify their address). The operator does not render
   * it for the auth server yet; absent means on, the safe choice.
   */
  mail: Type.Optional(Type.Object({ enabled: Type.Boolean() })),
});

/** The auth server's configuration. */
export type AuthServerConfig = Static<typeof AuthServerConfigSchema>;
/** An upstream identity provider. */
export type UpstreamProvider = Static<typeof UpstreamProviderSchema>;

/** The configuration file is missing or malformed; the message names the file and the bad fields. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Checks a parsed config.json; throws ConfigError listing every problem. */
export function parseAuthServerConfig(json: unknown, source = "config.json"): AuthServerConfig {
  if (Value.Check(AuthServerConfigSchema, json)) return json;
  const problems = [...Value.Errors(AuthServerConfigSchema, json)].map(
    (e) => `${e.instancePath || "/"}: ${e.message}`,
  );
  throw new ConfigError(
    `${source} is not a valid auth-server configuration (${problems.join("; ")}). It is rendered by the ` +
      "operator from the ApiPortal; check that the operator and this component run the same wicked version.",
  );
}

/** Reads and checks the file WICKED_CONFIG names. */
export function readAuthServerConfig(path: string): AuthServerConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(
      `Could not read the configuration file ${path} (${(err as Error).message}); set WICKED_CONFIG to the path of config.json.`,
    );
  }
  try {
    return parseAuthServerConfig(JSON.parse(text), path);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
}
