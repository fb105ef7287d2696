// Part of the Kong TEST DOUBLE (test/kong): never imported by the product.
// The jwt plugin's access phase (kong/plugins/jwt/handler.lua, Kong 3.9): the consumer is found through
// `claims[key_claim_name]` matching a jwt credential's `key`; no iss/aud check and no JWKS.
import type { Clock } from "../clock.ts";
import type { JsonObject } from "../json.ts";
import { decodeJwt, verifyJwtSignature, verifyRegisteredClaims } from "../jwt-token.ts";
import {
  authenticate,
  type CredentialDirectory,
  consumerIdOf,
  errorExit,
  type PluginExit,
  type PluginHandler,
  type ProxyState,
} from "./types.ts";

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function cookie(state: ProxyState, name: string): string | undefined {
  for (const header of state.clientHeaders.cookie ?? []) {
    for (const pair of header.split(";")) {
      const [key, ...rest] = pair.trim().split("=");
      if (key === name && rest.length > 0) return rest.join("=");
    }
  }
  return undefined;
}

/** Finds the token: URI parameters, then cookies, then `Bearer` headers (Kong's order). */
function retrieveToken(config: JsonObject, state: ProxyState): string[] {
  for (const name of strings(config.uri_param_names)) {
    const values = state.query.getAll(name);
    if (values.length > 0) return values;
  }
  for (const name of strings(config.cookie_names)) {
    const value = cookie(state, name);
    if (value) return [value];
  }
  for (const name of strings(config.header_names)) {
    const value = state.clientHeaders[name.toLowerCase()]?.[0];
    const match = value === undefined ? null : /^\s*[Bb]earer\s+(.+)/.exec(value);
    if (match?.[1]) return [match[1]];
  }
  return [];
}

/** Creates the jwt handler; `clock` decides `exp` and `nbf`. */
export function jwtPlugin(directory: CredentialDirectory, clock: Clock): PluginHandler {
  function verifyToken(config: JsonObject, state: ProxyState): PluginExit | undefined {
    const tokens = retrieveToken(config, state);
    if (tokens.length === 0) return errorExit(state, 401, "Unauthorized");
    if (tokens.length > 1) return errorExit(state, 401, "Multiple tokens provided");
    const jwt = decodeJwt(tokens[0] ?? "");
    if ("error" in jwt) return errorExit(state, 401, `Bad token; ${jwt.error}`);
    const claimName = typeof config.key_claim_name === "string" ? config.key_claim_name : "iss";
    const keyValue = jwt.claims[claimName] ?? jwt.header[claimName];
    if (keyValue === undefined || keyValue === null) {
      return errorExit(state, 401, `No mandatory '${claimName}' in claims`);
    }
    if (keyValue === "") return errorExit(state, 401, `Invalid '${claimName}' in claims`);
    const secret = directory.jwtSecretByKey(String(keyValue));
    if (!secret) return errorExit(state, 401, `No credentials found for given '${claimName}'`);
    const algorithm = typeof secret.algorithm === "string" ? secret.algorithm : "HS256";
    if (jwt.header.alg !== algorithm) return errorExit(state, 401, "Invalid algorithm");
    const material = algorithm.startsWith("HS") ? secret.secret : secret.rsa_public_key;
    if (typeof material !== "string") return errorExit(state, 401, "Invalid key/secret");
    const key = config.secret_is_base64 === true ? Buffer.from(material, "base64") : material;
    if (!verifyJwtSignature(algorithm, jwt, key)) return errorExit(state, 401, "Invalid signature");
    const nowSeconds = Math.floor(clock() / 1000);
    const claimErrors = verifyRegisteredClaims(jwt.claims, strings(config.claims_to_verify), nowSeconds);
    if (claimErrors) return { status: 401, body: claimErrors };
    const max = config.maximum_expiration;
    if (typeof max === "number" && max > 0) {
      const exp = jwt.claims.exp;
      if (typeof exp !== "number" || exp - nowSeconds > max) {
        return { status: 401, body: { exp: "exceeds maximum allowed expiration" } };
      }
    }
    const consumerId = consumerIdOf(secret);
    const consumer = consumerId ? directory.consumerById(consumerId) : undefined;
    if (!consumer)
      return errorExit(state, 401, `Could not find consumer for '${claimName}=${String(keyValue)}'`);
    authenticate(state, consumer, secret, typeof secret.key === "string" ? secret.key : undefined);
    return undefined;
  }

  return {
    access(config, state) {
      if (config.run_on_preflight === false && state.method === "OPTIONS") return undefined;
      const anonymous = typeof config.anonymous === "string" ? config.anonymous : undefined;
      if (anonymous && state.credential) return undefined;
      const exit = verifyToken(config, state);
      if (!exit || !anonymous) return exit;
      const consumer = directory.consumerByIdOrUsername(anonymous);
      if (!consumer) return errorExit(state, 500, "An unexpected error occurred");
      authenticate(state, consumer, undefined, undefined);
      return undefined;
    },
  };
}
