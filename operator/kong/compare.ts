/**
 * Comparing what wicked wants with what Kong holds. Kong fills in defaults, timestamps and fields wicked
 * never sets, so only the fields of the desired entity are compared, and Kong's set-typed fields (tags, paths,
 * methods, …) are compared without regard to order. This is what makes an in-sync resync cost no write. Pure.
 */
import { createHash } from "node:crypto";
import type { JsonObject, JsonValue } from "./state.ts";

/** Fields Kong declares as sets: their order carries no meaning and may differ in Kong's answers. */
const SET_FIELDS = new Set([
  "tags",
  "protocols",
  "methods",
  "hosts",
  "paths",
  "snis",
  "claims_to_verify",
  "header_names",
  "uri_param_names",
  "cookie_names",
]);

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function canonical(value: JsonValue | undefined): string {
  return JSON.stringify(value ?? null);
}

/**
 * Whether `actual` has every value `desired` sets. Objects are compared field by field (Kong's extra fields
 * are ignored, also inside plugin `config`); lists must match in length and items, in any order for sets.
 */
export function matches(
  desired: JsonValue | undefined,
  actual: JsonValue | undefined,
  field?: string,
): boolean {
  if (desired === undefined) return true;
  if (desired === null || typeof desired !== "object") return desired === (actual ?? null);
  if (Array.isArray(desired)) {
    if (!Array.isArray(actual) || desired.length !== actual.length) return false;
    if (field !== undefined && SET_FIELDS.has(field)) {
      const have = actual.map(canonical).sort();
      return desired
        .map(canonical)
        .sort()
        .every((d, i) => d === have[i]);
    }
    return desired.every((d, i) => matches(d, actual[i]));
  }
  if (!isObject(actual)) return false;
  return Object.entries(desired).every(([k, v]) => matches(v, actual[k], k));
}

/** The top-level fields whose desired value Kong does not hold; empty when the entity is in sync. */
export function changedFields(desired: JsonObject, actual: JsonObject): string[] {
  return Object.keys(desired)
    .filter((k) => !matches(desired[k], actual[k], k))
    .sort();
}

function sortedJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(",")}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${sortedJson(value[k] ?? null)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Digests of the fields objects already digested: a desired entity is reused from sync to sync (desired.ts). */
const digests = new WeakMap<JsonObject, string>();

/**
 * A digest of an entity's desired fields, so the ledger can tell a changed desire from a changed Kong. The
 * fields are never changed once built, so each object is digested once.
 */
export function fieldsDigest(fields: JsonObject): string {
  let digest = digests.get(fields);
  if (digest === undefined) {
    digest = createHash("sha256").update(sortedJson(fields)).digest("base64");
    digests.set(fields, digest);
  }
  return digest;
}
