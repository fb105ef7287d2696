/**
 * The auth server's configuration: the `config.json` the operator renders into the component's ConfigMap
 * (operator/apiportal/components.ts `componentConfig(portal, "auth-server")`) plus the environment.
 */
import { type Static, Type } from "typebox";
import {
  ConfigError,
  checkConfig,
  GroupsSchema,
  LimitSchema,
  LocalLoginSchema,
  PORTAL_FIELDS,
  readConfigFile,
} from "../component/config-file.ts";

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
  ...PORTAL_FIELDS,
  groups: GroupsSchema,
  login: Type.Object({
    local: LocalLoginSchema,
    providers: Type.Array(UpstreamProviderSchema),
  }),
  /**
   * Whether mail is configured (new local accounts must verify their address). The operator does not render
   * it for the auth server yet; absent means on, the safe choice.
   */
  mail: Type.Optional(Type.Object({ enabled: Type.Boolean() })),
  /**
   * Limits of the login and sign-up forms, per replica; each limit left out keeps its default (throttle.ts
   * DEFAULT_THROTTLE). The operator does not render it yet.
   */
  throttle: Type.Optional(
    Type.Object(
      {
        login: Type.Optional(
          Type.Object(
            {
              perAddress: Type.Optional(LimitSchema),
              perAccount: Type.Optional(LimitSchema),
              global: Type.Optional(LimitSchema),
            },
            { additionalProperties: false },
          ),
        ),
        signup: Type.Optional(
          Type.Object(
            { perAddress: Type.Optional(LimitSchema), global: Type.Optional(LimitSchema) },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
  ),
});

/** The auth server's configuration. */
export type AuthServerConfig = Static<typeof AuthServerConfigSchema>;
/** An upstream identity provider. */
export type UpstreamProvider = Static<typeof UpstreamProviderSchema>;

/** Checks a parsed config.json; throws ConfigError listing every problem. */
export function parseAuthServerConfig(json: unknown, source = "config.json"): AuthServerConfig {
  return checkConfig(AuthServerConfigSchema, "auth-server", json, source);
}

/** Reads and checks the file WICKED_CONFIG names. */
export function readAuthServerConfig(path: string): AuthServerConfig {
  return readConfigFile(path, parseAuthServerConfig);
}

export { ConfigError };
