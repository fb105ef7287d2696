/**
 * Reading a component's config.json: the file the operator renders into the component's ConfigMap from the
 * ApiPortal. Each component owns its schema; the reading and the error messages are the same for all.
 */
import { readFileSync } from "node:fs";
import { type Static, type TSchema, Type } from "typebox";
import { Value } from "typebox/value";

/** The fields every component's config.json has: which portal, its name, and where its parts are. */
export const PORTAL_FIELDS = {
  portal: Type.Object({ namespace: Type.String({ minLength: 1 }), name: Type.String({ minLength: 1 }) }),
  displayName: Type.String(),
  urls: Type.Object({
    portal: Type.String({ minLength: 1 }),
    api: Type.String({ minLength: 1 }),
    auth: Type.String({ minLength: 1 }),
    gateway: Type.String({ minLength: 1 }),
  }),
};

/** The portal's groups: who administers, who approves, and how identity-provider groups map to them. */
export const GroupsSchema = Type.Object({
  admin: Type.String({ minLength: 1 }),
  approver: Type.String({ minLength: 1 }),
  mappings: Type.Array(Type.Object({ idpGroup: Type.String(), group: Type.String() })),
});

/** Local (email and password) login as the portal API and the auth server enforce it. */
export const LocalLoginSchema = Type.Object({
  enabled: Type.Boolean(),
  allowSignup: Type.Boolean(),
  passwordMinLength: Type.Integer({ minimum: 1 }),
});

/** A rate limit (component/throttle.ts): at most `max` requests per `timeWindowMs`. */
export const LimitSchema = Type.Object(
  { max: Type.Integer({ minimum: 1 }), timeWindowMs: Type.Integer({ minimum: 1_000 }) },
  { additionalProperties: false },
);

/** The configuration (or the key material beside it) is missing or malformed; the message says what to fix. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Checks a parsed config.json against a component's schema; throws ConfigError listing every problem. */
export function checkConfig<T extends TSchema>(
  schema: T,
  component: string,
  json: unknown,
  source = "config.json",
): Static<T> {
  if (Value.Check(schema, json)) return json;
  const problems = [...Value.Errors(schema, json)].map((e) => `${e.instancePath || "/"}: ${e.message}`);
  throw new ConfigError(
    `${source} is not a valid ${component} configuration (${problems.join("; ")}). It is rendered by the ` +
      "operator from the ApiPortal; check that the operator and this component run the same wicked version.",
  );
}

/** Reads the file WICKED_CONFIG names and checks it with `parse`. */
export function readConfigFile<T>(path: string, parse: (json: unknown, source: string) => T): T {
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
  return parse(json, path);
}
