/**
 * The portal API's configuration: the `config.json` the operator renders into the component's ConfigMap
 * (operator/apiportal/components.ts `componentConfig(portal, "portal-api")`) plus the environment.
 */
import { type Static, Type } from "typebox";
import { ConfigError, checkConfig, readConfigFile } from "../component/config-file.ts";

/** The shape of the portal API's config.json. */
export const PortalApiConfigSchema = Type.Object({
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
  }),
  mail: Type.Object({ enabled: Type.Boolean() }),
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
