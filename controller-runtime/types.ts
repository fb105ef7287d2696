/**
 * The vocabulary shared by every part of the controller runtime: which kind a controller works on, how an
 * object is addressed, and what a reconcile says should happen next.
 */
import type * as k8s from "@kubernetes/client-node";

/**
 * Identifies a resource type and where the apiserver serves it. `plural` is part of it because the REST path
 * needs it and a GVK without it would force a discovery round trip before the first request.
 */
export interface GroupVersionKind {
  /** API group; `""` for the core group (ConfigMap, Secret, …). */
  group: string;
  /** API version within the group, e.g. `v1` or `v1alpha1`. */
  version: string;
  /** CamelCase kind, e.g. `ApiPortal`. */
  kind: string;
  /** Lower-case plural resource name used in REST paths, e.g. `apiportals`. */
  plural: string;
}

/** Addresses one object; `namespace` is `""` for a cluster-scoped object. This is a work queue item. */
export interface ObjectKey {
  namespace: string;
  name: string;
}

/**
 * Any object the apiserver serves, typed with client-node's models so `V1Secret & KubeObject` and friends
 * work. The runtime passes the apiserver's JSON through unchanged, so every timestamp — including
 * `metadata.creationTimestamp` and `deletionTimestamp`, which V1ObjectMeta declares as `Date` — is an RFC 3339
 * string at runtime, exactly as api/v1alpha1's ObjectMeta declares it. Test them for presence, compare them
 * as strings, or parse them with toDate().
 */
export type KubeObject = k8s.KubernetesObject & { metadata: k8s.V1ObjectMeta };

/**
 * What a reconcile wants next. `{}` waits for the next change of a watched object (or the periodic resync);
 * `requeueAfterMs` reconciles the key again after that delay even if nothing changes (polling an external
 * system, a certificate that expires). `requeueAfterMs: 0` requeues through the rate limiter.
 */
export interface Result {
  requeueAfterMs?: number;
}

/**
 * Thrown by a reconciler when retrying cannot help because the spec itself is wrong. The reconciler has
 * already said so in a condition; the runtime counts the error but does not requeue the key. The next change
 * to the object (a fixed spec) triggers a new reconcile as usual.
 */
export class TerminalError extends Error {
  override readonly name = "TerminalError";
}

/**
 * The reason ReconcileContext.signal aborts with when a reconcile ran past its time limit: the runtime has
 * stopped waiting for it, freed its worker and queued a retry with backoff. Lets a reconciler (or a log)
 * tell a timeout from a lost Lease.
 */
export class ReconcileTimeoutError extends Error {
  override readonly name = "ReconcileTimeoutError";
  constructor(
    /** Kind of the reconciled object. */
    readonly kind: string,
    /** `namespace/name` of the reconciled object. */
    readonly key: string,
    /** The limit it ran past, in ms. */
    readonly timeoutMs: number,
  ) {
    super(`The reconcile of ${kind} ${key} ran past its limit of ${timeoutMs / 1000} s`);
  }
}

/** `apps/v1` for a named group, `v1` for the core group: the `apiVersion` field of objects of this kind. */
export function apiVersionOf(gvk: Pick<GroupVersionKind, "group" | "version">): string {
  return gvk.group === "" ? gvk.version : `${gvk.group}/${gvk.version}`;
}

/** The key of an object, for the work queue and the cache. */
export function objectKey(obj: KubeObject): ObjectKey {
  return { namespace: obj.metadata.namespace ?? "", name: obj.metadata.name ?? "" };
}

/** `namespace/name` (or `name` for cluster-scoped objects), the string form used as a map and queue key. */
export function keyString(key: ObjectKey): string {
  return key.namespace === "" ? key.name : `${key.namespace}/${key.name}`;
}

/** Inverse of keyString. */
export function parseKey(key: string): ObjectKey {
  const slash = key.indexOf("/");
  return slash < 0
    ? { namespace: "", name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** A stable string for a GVK, used to share one informer per kind. */
export function gvkString(gvk: GroupVersionKind): string {
  return `${apiVersionOf(gvk)}, Kind=${gvk.kind}`;
}
