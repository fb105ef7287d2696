// Part of the Kong TEST DOUBLE (test/kong): never imported by the product.
// Error bodies as Kong 3.x builds them in kong/db/errors.lua and kong/api/endpoints.lua.
import { isJsonObject, type Json, type JsonObject } from "./json.ts";

/** Kong's DB error codes (kong/db/errors.lua) that the Admin API subset can answer. */
const KongErrorCode = {
  SCHEMA_VIOLATION: 2,
  PRIMARY_KEY_VIOLATION: 3,
  FOREIGN_KEY_VIOLATION: 4,
  UNIQUE_VIOLATION: 5,
  INVALID_OFFSET: 7,
  INVALID_SIZE: 9,
  INVALID_OPTIONS: 11,
  FOREIGN_KEYS_UNRESOLVED: 13,
} as const;

/** An Admin API failure: the HTTP status and the exact JSON body Kong answers with. */
export class KongError extends Error {
  /** Creates an error answered with `status` and `body`. */
  constructor(
    readonly status: number,
    readonly body: JsonObject,
  ) {
    super(typeof body.message === "string" ? body.message : `Kong error ${status}`);
  }
}

/**
 * Field errors of a schema validation, shaped like Kong's `fields`: a message per field, a nested object
 * for records, an array (with nulls for valid elements) for arrays and sets, and `@entity` for entity checks.
 */
export type FieldErrors = { [field: string]: Json };

/**
 * Renders a value like Penlight's `pretty.write(v, "")`, which Kong uses inside messages:
 * `{consumer=null,name="key-auth",route={id="…"}}`, keys sorted.
 */
function luaPretty(value: Json): string {
  if (value === null) return "null";
  if (typeof value === "string") return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `{${value.map(luaPretty).join(",")}}`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${k}=${luaPretty(value[k] ?? null)}`).join(",")}}`;
}

function sortedKeys(errors: Json): string[] {
  if (Array.isArray(errors)) {
    return errors.flatMap((v, i) => (v === null ? [] : [String(i + 1)]));
  }
  if (isJsonObject(errors)) return Object.keys(errors).sort();
  return [];
}

function childOf(errors: Json, key: string): Json {
  if (Array.isArray(errors)) return errors[Number(key) - 1] ?? null;
  if (isJsonObject(errors)) return errors[key] ?? null;
  return null;
}

/** The human summary of field errors, in Kong's order: entity errors first, then fields sorted by name. */
function violationParts(errors: FieldErrors): string[] {
  const parts: string[] = [];
  const entity = errors["@entity"];
  if (Array.isArray(entity)) {
    for (const message of entity) if (typeof message === "string") parts.push(message);
  }
  for (const field of Object.keys(errors).sort()) {
    if (field === "@entity") continue;
    const value = errors[field] ?? null;
    if (typeof value === "string") {
      parts.push(`${field}: ${value}`);
      continue;
    }
    for (const sub of sortedKeys(value)) {
      const inner = childOf(value, sub);
      parts.push(`${field}.${sub}: ${typeof inner === "string" ? inner : luaPretty(inner)}`);
    }
  }
  return parts;
}

/** 400, code 2: `schema violation (host: required field missing)` or `N schema violations (a; b)`. */
export function schemaViolation(errors: FieldErrors): KongError {
  const parts = violationParts(errors);
  const message =
    parts.length === 1
      ? `schema violation (${parts[0]})`
      : `${parts.length} schema violations (${parts.join("; ")})`;
  return new KongError(400, {
    code: KongErrorCode.SCHEMA_VIOLATION,
    name: "schema violation",
    message,
    fields: errors,
  });
}

/** 409, code 5: `UNIQUE violation detected on '{name="x"}'`. */
export function uniqueViolation(keys: JsonObject): KongError {
  return new KongError(409, {
    code: KongErrorCode.UNIQUE_VIOLATION,
    name: "unique constraint violation",
    message: `UNIQUE violation detected on '${luaPretty(keys)}'`,
    fields: keys,
  });
}

/** 400, code 3: creating an entity with the id of an existing one. */
export function primaryKeyViolation(id: string): KongError {
  return new KongError(400, {
    code: KongErrorCode.PRIMARY_KEY_VIOLATION,
    name: "primary key violation",
    message: `primary key violation on key '${luaPretty({ id })}'`,
    fields: { id },
  });
}

/** 400, code 4: a foreign key that does not reference an existing entity. */
export function foreignKeyViolation(field: string, key: JsonObject, parent: string): KongError {
  return new KongError(400, {
    code: KongErrorCode.FOREIGN_KEY_VIOLATION,
    name: "foreign key violation",
    message: `the foreign key '${luaPretty(key)}' does not reference an existing '${parent}' entity.`,
    fields: { [field]: key },
  });
}

/** 400, code 4: deleting an entity that another entity still references without cascade (a service with routes). */
export function referencedByOthers(parent: string, child: string): KongError {
  return new KongError(400, {
    code: KongErrorCode.FOREIGN_KEY_VIOLATION,
    name: "foreign key violation",
    message: `an existing '${child}' entity references this '${parent}' entity`,
    fields: { "@referenced_by": child },
  });
}

/** 400, code 13: a foreign key given by a unique field (`{"name": "x"}`) that matches nothing. */
export function foreignKeyUnresolved(
  field: string,
  uniqueField: string,
  value: Json,
  parent: string,
): KongError {
  const text = `the foreign key cannot be resolved with '${luaPretty({ [uniqueField]: value })}' for an existing '${parent}' entity`;
  return new KongError(400, {
    code: KongErrorCode.FOREIGN_KEYS_UNRESOLVED,
    name: "foreign keys unresolved",
    message: `foreign key unresolved (${field}.${uniqueField}: ${text})`,
    fields: { [field]: { [uniqueField]: text } },
  });
}

/** 400, code 11: invalid list options such as too many tags; Kong puts them under `options`, not `fields`. */
export function invalidOptions(options: { [option: string]: string }): KongError {
  const parts = Object.keys(options)
    .sort()
    .map((k) => `${k}: ${options[k]}`);
  const message =
    parts.length === 1
      ? `invalid option (${parts[0]})`
      : `${parts.length} option violations (${parts.join("; ")})`;
  return new KongError(400, {
    code: KongErrorCode.INVALID_OPTIONS,
    name: "invalid options",
    message,
    options,
  });
}

/** 400, code 9: a page size that is not a number or outside 1..1000. */
export function invalidSize(message: string): KongError {
  return new KongError(400, { code: KongErrorCode.INVALID_SIZE, name: "invalid size", message });
}

/** 400, code 7: an offset that is not one the double handed out. */
export function invalidOffset(offset: string, reason: string): KongError {
  return new KongError(400, {
    code: KongErrorCode.INVALID_OFFSET,
    name: "invalid offset",
    message: `'${offset}' is not a valid offset: ${reason}`,
  });
}

/** 404 `{"message":"Not found"}`. */
export function notFound(): KongError {
  return new KongError(404, { message: "Not found" });
}

/** 405 `{"message":"Method not allowed"}`. */
export function methodNotAllowed(): KongError {
  return new KongError(405, { message: "Method not allowed" });
}

/** 400 `{"message":"Cannot parse JSON body"}`. */
export function unparsableJson(): KongError {
  return new KongError(400, { message: "Cannot parse JSON body" });
}

/** Kong's default message per status (kong.tools.utils `get_default_exit_body`) for the statuses the double answers. */
export const DEFAULT_STATUS_MESSAGES: { readonly [status: number]: string } = {
  400: "Bad request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not found",
  405: "Method not allowed",
  415: "Unsupported media type",
  429: "Too many requests",
  500: "An unexpected error occurred",
  502: "An invalid response was received from the upstream server",
  503: "The upstream server is currently unavailable",
  504: "The upstream server is timed out",
};
