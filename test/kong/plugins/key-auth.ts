// Part of the Kong TEST DOUBLE (test/kong): never imported by the product.
// The key-auth plugin's access phase (kong/plugins/key-auth/handler.lua, Kong 3.9).
import type { JsonObject } from "../json.ts";
import {
  authenticate,
  type CredentialDirectory,
  consumerIdOf,
  errorExit,
  type PluginExit,
  type PluginHandler,
  type ProxyState,
} from "./types.ts";

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function bodyValues(state: ProxyState, name: string): string[] {
  const text = state.body.toString("utf8");
  const type = state.clientHeaders["content-type"]?.[0] ?? "";
  if (type.includes("application/json")) {
    try {
      const parsed: unknown = JSON.parse(text);
      const value =
        typeof parsed === "object" && parsed !== null
          ? (parsed as { [k: string]: unknown })[name]
          : undefined;
      return typeof value === "string" ? [value] : [];
    } catch {
      return [];
    }
  }
  return type.includes("application/x-www-form-urlencoded") ? new URLSearchParams(text).getAll(name) : [];
}

/** Finds the key as Kong does: per key name, header first, then query, then body; hides it when asked. */
function findKey(config: JsonObject, state: ProxyState): { key?: string; duplicate?: boolean } {
  for (const name of stringList(config.key_names)) {
    const lower = name.toLowerCase();
    let values: readonly string[] = config.key_in_header === false ? [] : (state.clientHeaders[lower] ?? []);
    if (values.length === 0 && config.key_in_query !== false) values = state.query.getAll(name);
    if (values.length === 0 && config.key_in_body === true) values = bodyValues(state, name);
    if (values.length > 1) return { duplicate: true };
    const key = values[0];
    if (key === undefined) continue;
    if (config.hide_credentials === true) {
      state.query.delete(name);
      delete state.upstreamHeaders[lower];
    }
    return { key };
  }
  return {};
}

/** Creates the key-auth handler reading credentials from `directory`. */
export function keyAuthPlugin(directory: CredentialDirectory): PluginHandler {
  function authenticateByKey(config: JsonObject, state: ProxyState): PluginExit | undefined {
    const challenge = {
      "WWW-Authenticate": `Key realm="${typeof config.realm === "string" ? config.realm : "kong"}"`,
    };
    const found = findKey(config, state);
    if (found.duplicate) return errorExit(state, 401, "Duplicate API key found", challenge);
    if (found.key === undefined || found.key === "")
      return errorExit(state, 401, "No API key found in request", challenge);
    const credential = directory.keyAuthByKey(found.key);
    const consumerId = credential ? consumerIdOf(credential) : undefined;
    const consumer = consumerId ? directory.consumerById(consumerId) : undefined;
    if (!credential || !consumer)
      return errorExit(state, 401, "Invalid authentication credentials", challenge);
    authenticate(state, consumer, credential, String(credential.id));
    return undefined;
  }

  return {
    access(config, state) {
      if (config.run_on_preflight === false && state.method === "OPTIONS") return undefined;
      const anonymous = typeof config.anonymous === "string" ? config.anonymous : undefined;
      if (anonymous && state.credential) return undefined;
      const exit = authenticateByKey(config, state);
      if (!exit || !anonymous) return exit;
      const consumer = directory.consumerByIdOrUsername(anonymous);
      if (!consumer) return errorExit(state, 500, "An unexpected error occurred");
      authenticate(state, consumer, undefined, undefined);
      return undefined;
    },
  };
}
