/**
 * The portal API's configuration: the `config.json` the operator renders into the component's ConfigMap
 * (operator/apiportal/components.ts `componentConfig(portal, "portal-api")`) plus the environment.
 */
import { readFileSync } from "node:fs";
import { type Static, Type } from "typebox";
import { Value } from "typebox/value";

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

/** The configuration file is missing or malformed; the message names the file and the bad fields. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Checks a parsed config.json; throws ConfigError listing every problem. */
export function parsePortalApiConfig(json: unknown, source = "config.json"): PortalApiConfig {
  if (Value.Check(PortalApiConfigSchema, json)) return json;
  const problems = [...Value.Errors(PortalApiConfigSchema, json)].map(
    (e) => `${e.instancePath || "/"}: ${e.message}`,
  );
  throw new ConfigError(
    `${source} is not a valid portal-api configuration (${problems.join("; ")}). It is rendered by the ` +
      "operator from the ApiPortal; check that the operator and this component run the same wicked version.",
  );
}

/** Reads and checks the file WICKED_CONFIG names. */
export function readPortalApiConfig(path: string): PortalApiConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(
      `Could not read the configuration file ${path} (${(err as Error).message}); set WICKED_CONFIG to the path of config.json.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parsePortalApiConfig(json, path);
}
