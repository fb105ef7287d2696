/**
 * The portal API's configuration: the `config.json` the operator renders into the component's ConfigMap
 * (operator/apiportal/components.ts `componentConfig(portal, "portal-api")`) plus the environment.
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

/** The shape of the portal API's config.json. */
export const PortalApiConfigSchema = Type.Object({
  ...PORTAL_FIELDS,
  groups: GroupsSchema,
  login: Type.Object({
    local: LocalLoginSchema,
  }),
  mail: Type.Object({ enabled: Type.Boolean() }),
  /**
   * Limits of the unauthenticated account routes, per replica; each limit left out keeps its default
   * (app.ts DEFAULT_ACCOUNT_THROTTLE). The operator does not render it yet.
   */
  throttle: Type.Optional(
    Type.Object(
      {
        perAddress: Type.Optional(LimitSchema),
        perAccount: Type.Optional(LimitSchema),
        global: Type.Optional(LimitSchema),
      },
      { additionalProperties: false },
    ),
  ),
});

/** The portal API's configuration. */
export type PortalApiConfig = Static<typeof PortalApiConfigSchema>;

/** Checks a parsed config.json; throws ConfigError listing every problem. */
export function parsePortalApiConfig(json: unknown, source = "config.json"): PortalApiConfig {
  return checkConfig(PortalApiConfigSchema, "portal-api", json, source);
}

/** Reads and checks the file WICKED_CONFIG names. */
export function readPortalApiConfig(path: string): PortalApiConfig {
  return readConfigFile(path, parsePortalApiConfig);
}

export { ConfigError };
