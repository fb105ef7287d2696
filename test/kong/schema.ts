// Part of the Kong TEST DOUBLE (test/kong): never imported by the product.
// A small schema language mirroring the parts of kong/db/schema that the double needs: typed fields with
// defaults, Kong's validation messages, and helpers for entity checks.

import { cloneJson, isJsonObject, type Json, type JsonObject } from "./json.ts";
import type { FieldErrors } from "./kong-errors.ts";

/** A field-level custom validator: returns Kong's message, or undefined when the value is valid. */
export type Check<T> = (value: T) => string | undefined;

interface Common {
  /** `required field missing` when the value is null or absent. */
  readonly required?: boolean;
}

/** A string field; strings are never empty in Kong (`length must be at least 1`). */
export interface StringField extends Common {
  readonly type: "string";
  readonly default?: string;
  readonly oneOf?: readonly string[];
  readonly check?: Check<string>;
}

/** An integer field. */
export interface IntegerField extends Common {
  readonly type: "integer";
  readonly default?: number;
  readonly oneOf?: readonly number[];
  readonly between?: readonly [number, number];
}

/** A number field. */
export interface NumberField extends Common {
  readonly type: "number";
  readonly default?: number;
  readonly gt?: number;
  readonly between?: readonly [number, number];
}

/** A boolean field. */
export interface BooleanField extends Common {
  readonly type: "boolean";
  readonly default?: boolean;
}

/** An array (ordered) or set field; element errors are reported by 1-based position. */
export interface ListField extends Common {
  readonly type: "array" | "set";
  readonly elements: Field;
  readonly default?: readonly Json[];
  readonly lenMin?: number;
}

/** A map from string keys to values of one type (route `headers`). */
export interface MapField extends Common {
  readonly type: "map";
  readonly values: Field;
  readonly keyCheck?: Check<string>;
}

/** A nested record; with `default: {}` its own field defaults apply when it is absent (plugin `config`). */
export interface RecordField extends Common {
  readonly type: "record";
  readonly fields: Fields;
  readonly default?: JsonObject;
}

/** A foreign key, written `{"id": "<uuid>"}`. */
export interface ForeignField extends Common {
  readonly type: "foreign";
  /** The referenced entity (its DAO name, e.g. `services`). */
  readonly reference: string;
  /** `cascade` deletes this entity with its parent; otherwise the parent cannot be deleted while referenced. */
  readonly onDelete?: "cascade";
  /** Kong's `no_consumer`-style typedefs: the value must be null (`value must be null`). */
  readonly mustBeNull?: boolean;
}

/** A value stored as given (the config of plugins the double does not model). */
export interface AnyField extends Common {
  readonly type: "any";
  readonly default?: Json;
}

/** Any field definition. */
export type Field =
  | StringField
  | IntegerField
  | NumberField
  | BooleanField
  | ListField
  | MapField
  | RecordField
  | ForeignField
  | AnyField;

/** The fields of a record or entity, in declaration order. */
export type Fields = { readonly [name: string]: Field };

/** The outcome of validating one value: the normalised value and, when invalid, Kong's error for it. */
export interface Validated {
  readonly value: Json;
  readonly error?: Json;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a string is a UUID, the test Kong applies before treating a path segment as a name. */
export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

function defaultOf(field: Field): Json | undefined {
  switch (field.type) {
    case "foreign":
    case "map":
      return undefined;
    case "record":
      return field.default === undefined ? undefined : cloneJson(field.default);
    case "array":
    case "set":
      return field.default === undefined ? undefined : [...field.default];
    default:
      return field.default;
  }
}

function validateScalar(
  field: StringField | IntegerField | NumberField | BooleanField,
  value: Json,
): Validated {
  switch (field.type) {
    case "string": {
      if (typeof value !== "string") return { value, error: "expected a string" };
      if (value.length === 0) return { value, error: "length must be at least 1" };
      if (field.oneOf && !field.oneOf.includes(value)) {
        return { value, error: `expected one of: ${field.oneOf.join(", ")}` };
      }
      const message = field.check?.(value);
      return message ? { value, error: message } : { value };
    }
    case "integer":
    case "number": {
      if (typeof value !== "number" || !Number.isFinite(value)) {
        return { value, error: field.type === "integer" ? "expected an integer" : "expected a number" };
      }
      if (field.type === "integer") {
        if (!Number.isInteger(value)) return { value, error: "expected an integer" };
        if (field.oneOf && !field.oneOf.includes(value)) {
          return { value, error: `expected one of: ${field.oneOf.join(", ")}` };
        }
      } else if (field.gt !== undefined && !(value > field.gt)) {
        return { value, error: `value must be greater than ${field.gt}` };
      }
      const between = field.between;
      if (between && (value < between[0] || value > between[1])) {
        return { value, error: `value should be between ${between[0]} and ${between[1]}` };
      }
      return { value };
    }
    case "boolean":
      return typeof value === "boolean" ? { value } : { value, error: "expected a boolean" };
  }
}

function validateList(field: ListField, value: Json): Validated {
  if (!Array.isArray(value))
    return { value, error: field.type === "set" ? "expected a set" : "expected an array" };
  if (field.lenMin !== undefined && value.length < field.lenMin) {
    return { value, error: `length must be at least ${field.lenMin}` };
  }
  const items: Json[] = [];
  const errors: Json[] = [];
  let failed = false;
  for (const element of value) {
    const result = validateValue(field.elements, element);
    items.push(result.value);
    errors.push(result.error ?? null);
    if (result.error !== undefined) failed = true;
  }
  return failed ? { value: items, error: errors } : { value: items };
}

function validateMap(field: MapField, value: Json): Validated {
  if (!isJsonObject(value)) return { value, error: "expected a map" };
  const out: JsonObject = {};
  const errors: JsonObject = {};
  for (const [key, entry] of Object.entries(value)) {
    const keyError = field.keyCheck?.(key);
    const result = validateValue(field.values, entry);
    out[key] = result.value;
    if (keyError !== undefined) errors[key] = keyError;
    else if (result.error !== undefined) errors[key] = result.error;
  }
  return Object.keys(errors).length > 0 ? { value: out, error: errors } : { value: out };
}

function validateForeign(field: ForeignField, value: Json): Validated {
  if (field.mustBeNull) return { value, error: "value must be null" };
  if (!isJsonObject(value)) return { value, error: "expected a record" };
  const id = value.id;
  if (id === undefined || id === null) return { value, error: { id: "missing primary key" } };
  if (typeof id !== "string" || !isUuid(id)) return { value, error: { id: "expected a valid UUID" } };
  return { value: { id: id.toLowerCase() } };
}

/** Validates one value against its field definition (absent values are passed as `undefined`). */
export function validateValue(field: Field, input: Json | undefined): Validated {
  const value = input === undefined ? (defaultOf(field) ?? null) : input;
  if (value === null) {
    return field.required ? { value, error: "required field missing" } : { value };
  }
  switch (field.type) {
    case "array":
    case "set":
      return validateList(field, value);
    case "map":
      return validateMap(field, value);
    case "record": {
      if (!isJsonObject(value)) return { value, error: "expected a record" };
      const result = validateRecord(field.fields, value);
      return result.errors ? { value: result.value, error: result.errors } : { value: result.value };
    }
    case "foreign":
      return validateForeign(field, value);
    case "any":
      return { value: cloneJson(value) };
    default:
      return validateScalar(field, value);
  }
}

/** The result of validating a record: every declared field present (null when unset) and Kong's field errors. */
export interface RecordResult {
  readonly value: JsonObject;
  readonly errors?: FieldErrors;
}

/** Validates a record: declared fields are checked and defaulted, undeclared ones are `unknown field`. */
export function validateRecord(fields: Fields, input: JsonObject): RecordResult {
  const value: JsonObject = {};
  const errors: FieldErrors = {};
  for (const [name, field] of Object.entries(fields)) {
    const result = validateValue(field, input[name]);
    value[name] = result.value;
    if (result.error !== undefined) errors[name] = result.error;
  }
  for (const name of Object.keys(input)) {
    if (!(name in fields)) errors[name] = "unknown field";
  }
  return Object.keys(errors).length > 0 ? { value, errors } : { value };
}

/** Appends an entity-level error (`fields["@entity"]`). */
export function addEntityError(errors: FieldErrors, message: string): void {
  const list = errors["@entity"];
  if (Array.isArray(list)) list.push(message);
  else errors["@entity"] = [message];
}

/** Whether the field at a dotted path (`config.minute`) already failed validation. */
export function hasFieldError(errors: FieldErrors, path: string): boolean {
  let node: Json | undefined = errors;
  for (const part of path.split(".")) {
    if (!isJsonObject(node)) return false;
    node = node[part];
  }
  return node !== undefined;
}

/** Sets an error at a dotted path (`config.claims_to_verify`), creating the nested objects. */
function setFieldError(errors: FieldErrors, path: string, message: string): void {
  const parts = path.split(".");
  let node: JsonObject = errors;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (isJsonObject(next)) {
      node = next;
    } else {
      const created: JsonObject = {};
      node[part] = created;
      node = created;
    }
  }
  const last = parts[parts.length - 1];
  if (last !== undefined) node[last] = message;
}

/** Reads a dotted path (`config.policy`) from a record. */
function getPath(record: JsonObject, path: string): Json | undefined {
  let node: Json | undefined = record;
  for (const part of path.split(".")) {
    if (!isJsonObject(node)) return undefined;
    node = node[part];
  }
  return node;
}

/** Whether a value counts as set for Kong's `at_least_one_of` (not null, not an empty string, array or object). */
export function isNonEmpty(value: Json | undefined): boolean {
  if (value === undefined || value === null || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isJsonObject(value)) return Object.keys(value).length > 0;
  return true;
}

/** Kong's `at_least_one_of` entity check, with its message listing the quoted field names. */
export function atLeastOneOf(record: JsonObject, errors: FieldErrors, paths: readonly string[]): void {
  if (paths.some((p) => hasFieldError(errors, p))) return;
  if (paths.some((p) => isNonEmpty(getPath(record, p)))) return;
  addEntityError(
    errors,
    `at least one of these fields must be non-empty: ${paths.map((p) => `'${p}'`).join(", ")}`,
  );
}

/** Kong's failed `conditional` entity check: an entity message naming the condition field, plus the field error. */
export function conditionalFailure(
  errors: FieldErrors,
  ifField: string,
  thenField: string,
  message: string,
): void {
  addEntityError(errors, `failed conditional validation given value of field '${ifField}'`);
  setFieldError(errors, thenField, message);
}
