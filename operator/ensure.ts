/**
 * Applying a desired child object only when the cached one differs, and telling the owner's Events.
 */
import { isSubset } from "./desired.ts";
import type { ReconcileContext } from "./runtime/controller.ts";
import type { GroupVersionKind, KubeObject, ObjectKey } from "./runtime/types.ts";

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
 * "Created <Kind>" or "Updated <Kind>" on the owner. Returns whether it wrote.
 */
export async function ensure(
  ctx: ReconcileContext,
  gvk: GroupVersionKind,
  owner: KubeObject,
  desired: KubeObject,
): Promise<boolean> {
  const key = { namespace: desired.metadata.namespace ?? "", name: desired.metadata.name ?? "" };
  const existing = ctx.cache.get(gvk, key);
  if (existing && isSubset(desired, existing)) return false;
  await ctx.client.apply(desired, { force: true });
  const verb = existing ? "Updated" : "Created";
  ctx.log.info({ kind: gvk.kind, object: key.name }, `${verb} ${gvk.kind}`);
  await ctx.recorder.event(owner, "Normal", verb, `${verb} ${gvk.kind} ${key.name}`);
  return true;
}
