/**
 * kube-rs style finalizer handling: reduces a reconcile to two idempotent branches, `apply` while the
 * object lives and `cleanup` once it is being deleted, with the finalizer guaranteeing cleanup runs (and
 * succeeds) before the object disappears.
 */
import type { Client } from "./client.ts";
import { isNotFound } from "./errors.ts";
import { type GroupVersionKind, type KubeObject, objectKey, type Result } from "./types.ts";

/** The two branches of a finalized reconcile. */
export interface FinalizerHandlers<T extends KubeObject> {
  /** Brings the world to the object's desired state; runs with the finalizer in place. */
  apply(obj: T): Promise<Result>;
  /**
   * Removes what the object caused outside Kubernetes' garbage collection (external systems). Must be
   * idempotent and treat "already gone" as success. Throw to retry later: the finalizer stays until cleanup
   * returns.
   */
  cleanup(obj: T): Promise<Result>;
}

/** True when the object lists the finalizer. */
export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return obj.metadata.finalizers?.includes(finalizer) ?? false;
}

/**
 * Adds the finalizer unless present, conditional on the object's resourceVersion (409 Conflict if it changed
 * meanwhile: retry with the newer object). Returns the current object and whether it was changed.
 */
export async function addFinalizer<T extends KubeObject>(
  client: Client,
  gvk: GroupVersionKind,
  obj: T,
  finalizer: string,
): Promise<{ obj: T; changed: boolean }> {
  if (hasFinalizer(obj, finalizer)) return { obj, changed: false };
  const finalizers = [...(obj.metadata.finalizers ?? []), finalizer];
  const patched = await client.patchMerge<T>(gvk, objectKey(obj), {
    metadata: { finalizers, resourceVersion: obj.metadata.resourceVersion },
  });
  return { obj: patched, changed: true };
}

/**
 * Removes the finalizer if present, conditional on the object's resourceVersion. An object that is already
 * gone counts as done. Returns whether anything was removed.
 */
export async function removeFinalizer(
  client: Client,
  gvk: GroupVersionKind,
  obj: KubeObject,
  finalizer: string,
): Promise<boolean> {
  if (!hasFinalizer(obj, finalizer)) return false;
  const finalizers = (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer);
  try {
    await client.patchMerge(gvk, objectKey(obj), {
      metadata: { finalizers, resourceVersion: obj.metadata.resourceVersion },
    });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  return true;
}

/**
 * Runs `apply` or `cleanup` depending on whether the object is being deleted, managing the finalizer:
 * - alive, finalizer missing: adds it first (so cleanup is guaranteed to run), then applies;
 * - alive, finalizer present: applies;
 * - deleting, finalizer present: cleans up, then removes the finalizer so the deletion completes;
 * - deleting, finalizer absent, or gone before the finalizer was added: nothing left to do.
 * Every branch is idempotent, so a crash at any point is repaired by the next reconcile.
 */
export async function withFinalizer<T extends KubeObject>(
  client: Client,
  gvk: GroupVersionKind,
  obj: T,
  finalizer: string,
  handlers: FinalizerHandlers<T>,
): Promise<Result> {
  if (obj.metadata.deletionTimestamp) {
    if (!hasFinalizer(obj, finalizer)) return {};
    const result = await handlers.cleanup(obj);
    await removeFinalizer(client, gvk, obj, finalizer);
    return result;
  }
  let current: T;
  try {
    ({ obj: current } = await addFinalizer(client, gvk, obj, finalizer));
  } catch (err) {
    // Deleted before the finalizer landed (the cache was behind): nothing to apply or to clean up.
    if (isNotFound(err)) return {};
    throw err;
  }
  return handlers.apply(current);
}
