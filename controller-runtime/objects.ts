/**
 * Pure helpers that turn GVKs and objects into REST paths and request bodies, and apiserver JSON into
 * KubeObjects. Kept apart from the HTTP code so they are unit-tested without a server.
 */
import type { GroupVersionKind, KubeObject, ObjectKey } from "./types.ts";

/**
 * The REST path of a collection (`name` undefined), an object, or an object's subresource. An empty
 * namespace addresses cluster-scoped objects, or for a collection all namespaces.
 */
export function resourcePath(
  gvk: Pick<GroupVersionKind, "group" | "version" | "plural">,
  namespace: string,
  name?: string,
  subresource?: string,
): string {
  const parts = [gvk.group === "" ? `/api/${gvk.version}` : `/apis/${gvk.group}/${gvk.version}`];
  if (namespace !== "") parts.push("namespaces", encodeURIComponent(namespace));
  parts.push(gvk.plural);
  if (name !== undefined) parts.push(encodeURIComponent(name));
  if (subresource !== undefined) parts.push(subresource);
  return parts.join("/");
}

/** The path of the object an ObjectKey names. */
export function objectPath(gvk: GroupVersionKind, key: ObjectKey, subresource?: string): string {
  return resourcePath(gvk, key.namespace, key.name, subresource);
}

/**
 * Turns an object as the apiserver sends it into a KubeObject: list items and watch events of some kinds
 * come without apiVersion and kind, so they are filled in. Everything else stays as the apiserver sent it.
 */
export function decodeObject<T extends KubeObject>(raw: unknown, apiVersion?: string, kind?: string): T {
  const obj = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  return {
    ...obj,
    apiVersion: typeof obj.apiVersion === "string" ? obj.apiVersion : apiVersion,
    kind: typeof obj.kind === "string" ? obj.kind : kind,
    metadata: typeof obj.metadata === "object" && obj.metadata !== null ? obj.metadata : {},
  } as unknown as T;
}

/** kubectl's copy of the whole object it applied: as big as the object, and nothing reads it. */
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/**
 * An object as the cache keeps it: without `managedFields` and kubectl's last-applied annotation, which are
 * often half of a small object's size and which no controller reads. Changes `obj` (fresh from the wire).
 */
export function leanObject<T extends KubeObject>(obj: T): T {
  // A copy without the field, not `delete`: V8 keeps an object a property was deleted from as a hash table,
  // about four times the size of the object (ten thousand metadata objects: 6 MiB).
  const { managedFields: _managed, ...metadata } = obj.metadata as KubeObject["metadata"] & {
    managedFields?: unknown;
  };
  if (metadata.annotations?.[LAST_APPLIED] !== undefined) {
    const { [LAST_APPLIED]: _applied, ...annotations } = metadata.annotations;
    metadata.annotations = annotations;
  }
  obj.metadata = metadata;
  shareStrings(obj, "");
  return obj;
}

/**
 * Fields whose values repeat across the objects of a kind (every Subscription's conditions say the same
 * few things; all carry the same apiVersion, kind, namespace, finalizers and labels). Each decoded object
 * brings its own copies, so at ten thousand objects the copies would be a large part of the cache.
 */
const SHARED_FIELDS = new Set([
  "apiVersion",
  "kind",
  "namespace",
  "type",
  "status",
  "reason",
  "message",
  "phase",
  "lastTransitionTime",
]);
/** Objects and lists all of whose strings repeat. */
const SHARED_CONTAINERS = new Set(["labels", "finalizers"]);
const SHARED_LIMIT = 20_000;
let sharedValues = new Map<string, string>();

/** The one copy of a value the cache keeps; the table starts over when full, so it stays bounded. */
function shared(value: string): string {
  const known = sharedValues.get(value);
  if (known !== undefined) return known;
  if (sharedValues.size >= SHARED_LIMIT) sharedValues = new Map();
  sharedValues.set(value, value);
  return value;
}

/** Replaces the strings of SHARED_FIELDS and SHARED_CONTAINERS with their shared copies, in place. */
function shareStrings(value: unknown, field: string): void {
  if (typeof value !== "object" || value === null) return;
  const share = SHARED_CONTAINERS.has(field);
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const child = record[key];
    if (typeof child === "string") {
      if (share || SHARED_FIELDS.has(key)) record[key] = shared(child);
    } else shareStrings(child, Array.isArray(value) ? field : key);
  }
}

/**
 * The body of a server-side apply: the caller's intent without the fields the apiserver rejects in an apply
 * (`managedFields`), the read-only timestamps, and what would turn an apply into a conditional write by accident (`resourceVersion` of an
 * object read earlier: a stale one would fail with 409 instead of applying).
 */
export function applyBody(obj: KubeObject): KubeObject {
  const {
    managedFields: _managed,
    resourceVersion: _rv,
    creationTimestamp: _created,
    deletionTimestamp: _deleted,
    ...metadata
  } = obj.metadata;
  return { ...obj, metadata };
}

/** The `metadata.resourceVersion` of an object, `""` when absent. */
export function resourceVersionOf(obj: KubeObject): string {
  return obj.metadata.resourceVersion ?? "";
}
