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
