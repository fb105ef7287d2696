// Part of the Kong TEST DOUBLE (test/kong): never imported by the product.
// The entities of the Admin API subset, after kong/db/schema/entities/*.lua and the plugins' daos.lua in
// Kong 3.9: fields with defaults, endpoint keys, uniqueness, foreign keys and entity checks.
import { createPublicKey } from "node:crypto";
import { isJsonObject, type Json, type JsonObject } from "./json.ts";
import type { FieldErrors } from "./kong-errors.ts";
import { pluginSchema } from "./plugin-schemas.ts";
import { randomKongString } from "./random.ts";
import {
  addEntityError,
  atLeastOneOf,
  conditionalFailure,
  type Fields,
  hasFieldError,
  isNonEmpty,
} from "./schema.ts";
import * as t from "./typedefs.ts";

/** The DAO names of the entities the double stores. */
export type EntityName =
  | "services"
  | "routes"
  | "consumers"
  | "plugins"
  | "keyauth_credentials"
  | "acls"
  | "jwt_secrets";

/** The fields of an entity, or why there are none (a plugin Kong does not bundle). */
export type FieldsOrError = { readonly fields: Fields } | { readonly nameError: string };

/** The result of a shorthand expansion (the service `url`). */
export interface Expanded {
  readonly input: JsonObject;
  readonly errors?: FieldErrors;
}

/** Everything the store and the Admin API need to know about one entity. */
export interface EntityDef {
  /** DAO name, used in error messages (`'services' entity`). */
  readonly name: EntityName;
  /** Collection path of the Admin API (`/key-auths`). */
  readonly adminName: string;
  /** Path segment under `/consumers/{consumer}/` for credentials (`key-auth`). */
  readonly nestedName?: string;
  /** The unique field that `/{collection}/{key}` accepts besides the id. */
  readonly endpointKey?: string;
  /** Whether the entity has `updated_at` (core entities in 3.x; credentials only have `created_at`). */
  readonly updatedAt: boolean;
  /** Single-field unique constraints, checked in this order. */
  readonly unique: readonly string[];
  /** Composite uniqueness (Kong's `cache_key`). */
  readonly cacheKey?: readonly string[];
  /** Fields generated when left null (`key`, `secret`). */
  readonly generated?: readonly string[];
  /** The fields of an entity; plugins depend on the plugin name. */
  fields(input: JsonObject): FieldsOrError;
  /** Shorthand fields expanded before validation. */
  expand?(input: JsonObject): Expanded;
  /** Entity checks, run after field validation. */
  check?(entity: JsonObject, errors: FieldErrors): void;
}

const SERVICE_FIELDS: Fields = {
  name: t.utf8Name,
  retries: { type: "integer", default: 5, between: [0, 32767] },
  protocol: { type: "string", required: true, default: "http", oneOf: t.PROTOCOLS },
  host: { ...t.host, required: true },
  port: { type: "integer", required: true, default: 80, between: [0, 65535] },
  path: t.path,
  connect_timeout: t.timeout(60000),
  write_timeout: t.timeout(60000),
  read_timeout: t.timeout(60000),
  tags: t.tags,
  client_certificate: { type: "foreign", reference: "certificates" },
  tls_verify: { type: "boolean" },
  tls_verify_depth: { type: "integer", between: [0, 64] },
  ca_certificates: { type: "array", elements: { type: "string" } },
  enabled: { type: "boolean", required: true, default: true },
};

const URL_RE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(\[[^\]]*\]|[^/?#:]*)(?::(\d*))?([^?#]*)/;

function expandServiceUrl(input: JsonObject): Expanded {
  const { url, ...rest } = input;
  if (url === undefined) return { input };
  if (typeof url !== "string") return { input: rest, errors: { url: "expected a string" } };
  const match = URL_RE.exec(url);
  if (!match) return { input: { ...rest, protocol: "http", host: null, port: 80, path: url } };
  const [, scheme = "http", hostPart = "", portText = "", pathPart = ""] = match;
  const protocol = scheme.toLowerCase();
  const explicitPort = portText === "" ? undefined : Number(portText);
  const port = explicitPort ?? (protocol === "https" ? 443 : 80);
  return {
    input: {
      ...rest,
      protocol,
      host: hostPart === "" ? null : hostPart,
      port,
      path: pathPart === "" ? null : pathPart,
    },
  };
}

function mustBeNullUnless(
  entity: JsonObject,
  errors: FieldErrors,
  field: string,
  allowed: readonly string[],
): void {
  const protocol = entity.protocol;
  if (typeof protocol !== "string" || allowed.includes(protocol) || hasFieldError(errors, field)) return;
  if (entity[field] !== null) conditionalFailure(errors, "protocol", field, "value must be null");
}

const services: EntityDef = {
  name: "services",
  adminName: "services",
  endpointKey: "name",
  updatedAt: true,
  unique: ["name"],
  fields: () => ({ fields: SERVICE_FIELDS }),
  expand: expandServiceUrl,
  check(entity, errors) {
    if (hasFieldError(errors, "protocol")) return;
    mustBeNullUnless(entity, errors, "path", ["http", "https"]);
    for (const field of ["client_certificate", "tls_verify", "tls_verify_depth", "ca_certificates"]) {
      mustBeNullUnless(entity, errors, field, ["https", "tls"]);
    }
  },
};

const ROUTE_FIELDS: Fields = {
  name: t.utf8Name,
  protocols: { ...t.protocols(["http", "https"]), required: true, lenMin: 1 },
  methods: t.methods,
  hosts: t.routeHosts,
  paths: t.routePaths,
  headers: {
    type: "map",
    values: t.stringSet(),
    keyCheck: (k) =>
      k.toLowerCase() === "host"
        ? "cannot contain 'host' header, which must be specified in the 'hosts' attribute"
        : undefined,
  },
  https_redirect_status_code: {
    type: "integer",
    required: true,
    default: 426,
    oneOf: [426, 301, 302, 307, 308],
  },
  regex_priority: { type: "integer", default: 0 },
  strip_path: { type: "boolean", required: true, default: true },
  path_handling: { type: "string", default: "v0", oneOf: ["v0", "v1"] },
  preserve_host: { type: "boolean", required: true, default: false },
  request_buffering: { type: "boolean", required: true, default: true },
  response_buffering: { type: "boolean", required: true, default: true },
  snis: t.stringSet(),
  sources: { type: "set", elements: { type: "any" } },
  destinations: { type: "set", elements: { type: "any" } },
  tags: t.tags,
  service: { type: "foreign", reference: "services" },
};

const ROUTING_FIELDS = ["methods", "hosts", "headers", "paths"] as const;

const routes: EntityDef = {
  name: "routes",
  adminName: "routes",
  endpointKey: "name",
  updatedAt: true,
  unique: ["name"],
  fields: () => ({ fields: ROUTE_FIELDS }),
  check(entity, errors) {
    const protocols = entity.protocols;
    if (!Array.isArray(protocols) || hasFieldError(errors, "protocols")) return;
    const fields: readonly string[] = protocols.includes("https")
      ? [...ROUTING_FIELDS, "snis"]
      : protocols.includes("http")
        ? ROUTING_FIELDS
        : [];
    if (fields.length === 0 || fields.some((f) => isNonEmpty(entity[f]))) return;
    const which = protocols.includes("https") ? "https" : "http";
    addEntityError(
      errors,
      `must set one of ${fields.map((f) => `'${f}'`).join(", ")} when 'protocols' is '${which}'`,
    );
  },
};

const consumers: EntityDef = {
  name: "consumers",
  adminName: "consumers",
  endpointKey: "username",
  updatedAt: true,
  unique: ["username", "custom_id"],
  fields: () => ({ fields: { username: { type: "string" }, custom_id: { type: "string" }, tags: t.tags } }),
  check: (entity, errors) => atLeastOneOf(entity, errors, ["custom_id", "username"]),
};

function pluginFields(input: JsonObject): FieldsOrError {
  const name = input.name;
  const schema = typeof name === "string" ? pluginSchema(name) : undefined;
  if (typeof name === "string" && name.length > 0 && !schema) {
    return { nameError: `plugin '${name}' not enabled; add it to the 'plugins' configuration property` };
  }
  const fields: Fields = {
    name: { type: "string", required: true },
    instance_name: t.utf8Name,
    route: { type: "foreign", reference: "routes", onDelete: "cascade" },
    service: { type: "foreign", reference: "services", onDelete: "cascade" },
    consumer: {
      type: "foreign",
      reference: "consumers",
      onDelete: "cascade",
      mustBeNull: schema?.noConsumer === true,
    },
    config: schema?.config
      ? { type: "record", required: true, default: {}, fields: schema.config }
      : { type: "any", required: true, default: {} },
    protocols: { ...t.protocols(t.HTTP_PLUGIN_PROTOCOLS), required: true },
    enabled: { type: "boolean", required: true, default: true },
    tags: t.tags,
  };
  return { fields };
}

const plugins: EntityDef = {
  name: "plugins",
  adminName: "plugins",
  endpointKey: "instance_name",
  updatedAt: true,
  unique: ["instance_name"],
  cacheKey: ["name", "route", "service", "consumer"],
  fields: pluginFields,
  check(entity, errors) {
    if (!hasFieldError(errors, "config") && entity.config !== null && !isJsonObject(entity.config)) {
      errors.config = "expected a record";
      return;
    }
    const name = entity.name;
    if (typeof name === "string") pluginSchema(name)?.check?.(entity, errors);
  },
};

const consumerRef = { type: "foreign", reference: "consumers", required: true, onDelete: "cascade" } as const;

const keyauthCredentials: EntityDef = {
  name: "keyauth_credentials",
  adminName: "key-auths",
  nestedName: "key-auth",
  endpointKey: "key",
  updatedAt: false,
  unique: ["key"],
  generated: ["key"],
  fields: () => ({
    fields: { consumer: consumerRef, key: { type: "string" }, tags: t.tags, ttl: { type: "integer" } },
  }),
};

const acls: EntityDef = {
  name: "acls",
  adminName: "acls",
  nestedName: "acls",
  updatedAt: false,
  unique: [],
  cacheKey: ["consumer", "group"],
  fields: () => ({
    fields: { consumer: consumerRef, group: { type: "string", required: true }, tags: t.tags },
  }),
};

/** The algorithms a jwt credential accepts (Kong 3.9). */
const JWT_ALGORITHMS = [
  "HS256",
  "HS384",
  "HS512",
  "RS256",
  "RS384",
  "RS512",
  "ES256",
  "ES384",
  "ES512",
  "PS256",
  "PS384",
  "PS512",
  "EdDSA",
] as const;

function isPublicKey(pem: string): boolean {
  try {
    createPublicKey(pem);
    return true;
  } catch {
    return false;
  }
}

const jwtSecrets: EntityDef = {
  name: "jwt_secrets",
  adminName: "jwts",
  nestedName: "jwt",
  endpointKey: "key",
  updatedAt: false,
  unique: ["key"],
  generated: ["key", "secret"],
  fields: () => ({
    fields: {
      consumer: consumerRef,
      key: { type: "string" },
      secret: { type: "string" },
      rsa_public_key: { type: "string" },
      algorithm: { type: "string", default: "HS256", oneOf: JWT_ALGORITHMS },
      tags: t.tags,
    },
  }),
  check(entity, errors) {
    const algorithm = entity.algorithm;
    if (typeof algorithm !== "string" || !/^(RS|PS)\d+$|^EdDSA$/.test(algorithm)) return;
    if (hasFieldError(errors, "rsa_public_key")) return;
    const key: Json = entity.rsa_public_key ?? null;
    if (key === null) conditionalFailure(errors, "algorithm", "rsa_public_key", "required field missing");
    else if (typeof key === "string" && !isPublicKey(key)) {
      conditionalFailure(errors, "algorithm", "rsa_public_key", "invalid key");
    }
  },
};

/** Every entity the double stores, by DAO name. */
export const ENTITIES: { readonly [name in EntityName]: EntityDef } = {
  services,
  routes,
  consumers,
  plugins,
  keyauth_credentials: keyauthCredentials,
  acls,
  jwt_secrets: jwtSecrets,
};

/** The entity with this DAO name, if the double stores it (foreign keys may name others, like `certificates`). */
export function entityByName(name: string): EntityDef | undefined {
  return Object.values(ENTITIES).find((def) => def.name === name);
}

/** The entity whose Admin API collection is `adminName` (`key-auths` → keyauth_credentials). */
export function entityByAdminName(adminName: string): EntityDef | undefined {
  return Object.values(ENTITIES).find((def) => def.adminName === adminName);
}

/** Generates the value of a field Kong fills in when absent (`key`, `secret`). */
export function generateValue(): string {
  return randomKongString();
}
