// Part of the Kong TEST DOUBLE (test/kong): never imported by the product.

/** A JSON value as the Admin API reads and writes it. */
export type Json = null | boolean | number | string | Json[] | JsonObject;

/** A JSON object. */
export interface JsonObject {
  [key: string]: Json;
}

/** Whether a value is a plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A deep copy of a JSON value, so stored entities never share structure with requests or responses. */
export function cloneJson<T extends Json>(value: T): T {
  return structuredClone(value);
}
