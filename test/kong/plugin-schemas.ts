// Part of the Kong TEST DOUBLE (test/kong): never imported by the product.
// Config schemas of the plugins the product relies on (key-auth, jwt, acl, rate-limiting), after their
// schema.lua in Kong 3.9, and the list of plugins bundled with Kong OSS 3.9 (other bundled plugins are
// accepted with their config stored as given).

import { isJsonObject, type JsonObject } from "./json.ts";
import type { FieldErrors } from "./kong-errors.ts";
import {
  addEntityError,
  atLeastOneOf,
  conditionalFailure,
  type Fields,
  hasFieldError,
  isNonEmpty,
} from "./schema.ts";
import { headerName, path, stringSet } from "./typedefs.ts";

/** What the double knows of one plugin: its config fields and the rules that span them. */
export interface PluginSchema {
  /** The `config` record's fields; absent for plugins stored as given. */
  readonly config?: Fields;
  /** Kong's `typedefs.no_consumer`: the plugin cannot be scoped to a consumer. */
  readonly noConsumer?: boolean;
  /** Entity checks on the validated plugin (`config` is at `plugin.config`). */
  readonly check?: (plugin: JsonObject, errors: FieldErrors) => void;
}

/** Execution priority of the plugins bundled with Kong OSS 3.9 (higher runs first), as `GET /` reports them. */
export const BUNDLED_PLUGIN_PRIORITIES: { readonly [name: string]: number } = {
  "pre-function": 1000000,
  "correlation-id": 100001,
  zipkin: 100000,
  "bot-detection": 2500,
  cors: 2000,
  session: 1900,
  acme: 1705,
  jwt: 1450,
  oauth2: 1400,
  "key-auth": 1250,
  "ldap-auth": 1200,
  "basic-auth": 1100,
  "hmac-auth": 1030,
  "grpc-gateway": 998,
  "ip-restriction": 990,
  "request-size-limiting": 951,
  acl: 950,
  "rate-limiting": 910,
  "response-ratelimiting": 900,
  "request-transformer": 801,
  "response-transformer": 800,
  redirect: 779,
  "ai-request-transformer": 777,
  "ai-prompt-template": 773,
  "ai-prompt-decorator": 772,
  "ai-prompt-guard": 771,
  "ai-proxy": 770,
  "ai-response-transformer": 768,
  "standard-webhooks": 760,
  "aws-lambda": 750,
  "azure-functions": 749,
  "proxy-cache": 100,
  opentelemetry: 14,
  prometheus: 13,
  "http-log": 12,
  statsd: 11,
  datadog: 10,
  "file-log": 9,
  "udp-log": 8,
  "tcp-log": 7,
  loggly: 6,
  syslog: 4,
  "grpc-web": 3,
  "request-termination": 2,
  "post-function": -1000,
};

const PERIODS = ["second", "minute", "hour", "day", "month", "year"] as const;

function checkPeriodsOrder(config: JsonObject, errors: FieldErrors): void {
  for (const [i, lower] of PERIODS.entries()) {
    const lowerLimit = config[lower];
    if (typeof lowerLimit !== "number") continue;
    for (const upper of PERIODS.slice(i + 1)) {
      const upperLimit = config[upper];
      if (typeof upperLimit === "number" && upperLimit < lowerLimit) {
        errors.config = `The limit for ${upper}(${upperLimit.toFixed(1)}) cannot be lower than the limit for ${lower}(${lowerLimit.toFixed(1)})`;
        return;
      }
    }
  }
}

const keyAuth: PluginSchema = {
  noConsumer: true,
  config: {
    key_names: { type: "array", required: true, elements: headerName, default: ["apikey"] },
    hide_credentials: { type: "boolean", required: true, default: false },
    anonymous: { type: "string" },
    key_in_header: { type: "boolean", required: true, default: true },
    key_in_query: { type: "boolean", required: true, default: true },
    key_in_body: { type: "boolean", required: true, default: false },
    run_on_preflight: { type: "boolean", required: true, default: true },
    realm: { type: "string" },
  },
};

const jwt: PluginSchema = {
  noConsumer: true,
  config: {
    uri_param_names: stringSet(["jwt"]),
    cookie_names: stringSet([]),
    key_claim_name: { type: "string", default: "iss" },
    secret_is_base64: { type: "boolean", required: true, default: false },
    claims_to_verify: { type: "set", elements: { type: "string", oneOf: ["exp", "nbf"] } },
    anonymous: { type: "string" },
    run_on_preflight: { type: "boolean", required: true, default: true },
    maximum_expiration: { type: "number", default: 0, between: [0, 31536000] },
    header_names: stringSet(["authorization"]),
    realm: { type: "string" },
  },
  check: (plugin, errors) => {
    const config = plugin.config;
    if (!isJsonObject(config) || hasFieldError(errors, "config.maximum_expiration")) return;
    const max = config.maximum_expiration;
    const claims = config.claims_to_verify;
    if (typeof max === "number" && max > 0 && Array.isArray(claims) && !claims.includes("exp")) {
      conditionalFailure(
        errors,
        "config.maximum_expiration",
        "config.claims_to_verify",
        "expected to contain: exp",
      );
    }
  },
};

const acl: PluginSchema = {
  noConsumer: true,
  config: {
    allow: { type: "array", elements: { type: "string" } },
    deny: { type: "array", elements: { type: "string" } },
    hide_groups_header: { type: "boolean", required: true, default: false },
    include_consumer_groups: { type: "boolean", default: false },
    always_use_authenticated_groups: { type: "boolean", required: true, default: false },
  },
  check: (plugin, errors) => {
    const config = plugin.config;
    if (!isJsonObject(config)) return;
    if (isNonEmpty(config.allow) && isNonEmpty(config.deny)) {
      addEntityError(errors, "only one of these fields must be non-empty: 'config.allow', 'config.deny'");
    }
    atLeastOneOf(plugin, errors, ["config.allow", "config.deny"]);
  },
};

const rateLimiting: PluginSchema = {
  config: {
    ...Object.fromEntries(PERIODS.map((p) => [p, { type: "number", gt: 0 } as const])),
    limit_by: {
      type: "string",
      default: "consumer",
      oneOf: ["consumer", "credential", "ip", "service", "header", "path", "consumer-group"],
    },
    header_name: headerName,
    path,
    policy: { type: "string", default: "local", oneOf: ["local", "cluster", "redis"] },
    fault_tolerant: { type: "boolean", required: true, default: true },
    redis: {
      type: "record",
      default: {},
      fields: {
        host: { type: "string" },
        port: { type: "integer", default: 6379, between: [0, 65535] },
        timeout: { type: "integer", default: 2000 },
        username: { type: "string" },
        password: { type: "string" },
        database: { type: "integer", default: 0 },
        ssl: { type: "boolean", required: true, default: false },
        ssl_verify: { type: "boolean", required: true, default: false },
        server_name: { type: "string" },
      },
    },
    hide_client_headers: { type: "boolean", required: true, default: false },
    error_code: { type: "number", default: 429, gt: 0 },
    error_message: { type: "string", default: "API rate limit exceeded" },
    sync_rate: { type: "number", required: true, default: -1 },
  },
  check: (plugin, errors) => {
    const config = plugin.config;
    if (!isJsonObject(config)) return;
    atLeastOneOf(
      plugin,
      errors,
      PERIODS.map((p) => `config.${p}`),
    );
    if (!hasFieldError(errors, "config")) checkPeriodsOrder(config, errors);
    const redis = config.redis;
    if (config.policy === "redis" && isJsonObject(redis) && redis.host === null) {
      conditionalFailure(errors, "config.policy", "config.redis.host", "required field missing");
    }
    if (config.limit_by === "header" && config.header_name === null) {
      conditionalFailure(errors, "config.limit_by", "config.header_name", "required field missing");
    }
    if (config.limit_by === "path" && config.path === null) {
      conditionalFailure(errors, "config.limit_by", "config.path", "required field missing");
    }
  },
};

const MODELLED: { readonly [name: string]: PluginSchema } = {
  "key-auth": keyAuth,
  jwt,
  acl,
  "rate-limiting": rateLimiting,
};

/** The schema for a plugin name, or undefined when Kong does not bundle it (`plugin 'x' not enabled`). */
export function pluginSchema(name: string): PluginSchema | undefined {
  const modelled = MODELLED[name];
  if (modelled) return modelled;
  return name in BUNDLED_PLUGIN_PRIORITIES ? {} : undefined;
}
