/**
 * Reading a component's config.json: the file the operator renders into the component's ConfigMap from the
 * ApiPortal. Each component owns its schema; the reading and the error messages are the same for all.
 */
import { readFileSync } from "node:fs";
import type { Static, TSchema } from "typebox";
import { Value } from "typebox/value";

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
