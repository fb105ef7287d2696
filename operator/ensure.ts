/**
 * Applying a desired child object only when the cached one differs, and telling the owner's Events.
 */

import type { ReconcileContext } from "../controller-runtime/controller.ts";
import type { GroupVersionKind, KubeObject, ObjectKey } from "../controller-runtime/types.ts";
import { isSubset } from "./desired.ts";

/**
 * The current object, from the cache or, when the cache does not have it (yet), from the apiserver. Use it
 * before generating anything that must be generated only once: right after this controller created an
 * object, the cache may not have seen it, and generating again would replace it.
 */
export async function currentObject<T extends KubeObject>(
  ctx: ReconcileContext,
  gvk: GroupVersionKind,
  key: ObjectKey,
): Promise<T | undefined> {
  return ctx.cache.get<T>(gvk, key) ?? (await ctx.client.get<T>(gvk, key));
}

/**
 * Server-side applies `desired` unless the cached object already has every field it sets; records
 * "Created <Kind>" or "Updated <Kind>" on the owner unless told not to (an Event per Subscription's Secret
 * would double the apiserver writes of a rollout; its status says the same). Returns whether it wrote.
 */
export async function ensure(
  ctx: ReconcileContext,
  gvk: GroupVersionKind,
  owner: KubeObject,
  desired: KubeObject,
  opts: { event?: boolean } = {},
): Promise<boolean> {
  const key = { namespace: desired.metadata.namespace ?? "", name: desired.metadata.name ?? "" };
  const existing = ctx.cache.get(gvk, key);
  if (existing && isSubset(desired, existing)) return false;
  await ctx.client.apply(desired, { force: true });
  const verb = existing ? "Updated" : "Created";
  ctx.log.info({ kind: gvk.kind, object: key.name }, `${verb} ${gvk.kind}`);
  if (opts.event ?? true) await ctx.recorder.event(owner, "Normal", verb, `${verb} ${gvk.kind} ${key.name}`);
  return true;
}

/**
 * Deletes the objects of a kind in the owner's namespace that the owner controls and `select` picks (routing
 * objects of URLs the spec no longer has, a managed Kong after the portal left Managed mode), in the
 * background so a Job's pods go with it; records "Deleted <Kind>" on the owner. Reads the cache, so it makes
 * no request when there is nothing to delete. Returns how many it deleted.
 */
export async function deleteOwned(
  ctx: ReconcileContext,
  gvk: GroupVersionKind,
  owner: KubeObject,
  select: (name: string) => boolean,
): Promise<number> {
  const namespace = owner.metadata.namespace ?? "";
  const doomed = ctx.cache
    .list(gvk, namespace)
    .filter(
      (o) =>
        !o.metadata.deletionTimestamp &&
        select(o.metadata.name ?? "") &&
        (o.metadata.ownerReferences ?? []).some((r) => r.controller && r.uid === owner.metadata.uid),
    );
  for (const obj of doomed) {
    const name = obj.metadata.name ?? "";
    await ctx.client.delete(gvk, { namespace, name }, { propagationPolicy: "Background" });
    ctx.log.info({ kind: gvk.kind, object: name }, `Deleted ${gvk.kind}`);
    await ctx.recorder.event(owner, "Normal", "Deleted", `Deleted ${gvk.kind} ${name}`);
  }
  return doomed.length;
}
