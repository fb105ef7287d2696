/**
 * Lookups shared by the resource controllers: the portal of a namespace, references between resources,
 * and the portal's database. Reads come from the cache.
 */
import type { V1Secret } from "@kubernetes/client-node";
import type { Kysely } from "kysely";
import type { Api, ApiClient, ApiPortal, Plan, Subscription } from "../api/v1alpha1/index.ts";
import type { Cache } from "../controller-runtime/cache.ts";
import { isConditionTrue } from "../controller-runtime/conditions.ts";
import type { GroupVersionKind, KubeObject, ObjectKey } from "../controller-runtime/types.ts";
import type { Database } from "../db/schema.ts";
import type { PortalDatabases } from "./apiportal/database.ts";
import { API, APICLIENT, APIPORTAL, PLAN, SECRET, SUBSCRIPTION } from "./gvks.ts";

/** A wicked resource as the cache returns it. */
export type Cached<T> = T & KubeObject;

const alive = (o: KubeObject) => !o.metadata.deletionTimestamp;

/** The ApiPortal serving a namespace: the oldest one (a second one is refused by its controller). */
export function portalOf(cache: Cache, namespace: string): Cached<ApiPortal> | undefined {
  return cache
    .list<Cached<ApiPortal>>(APIPORTAL, namespace)
    .filter(alive)
    .sort(
      (a, b) =>
        (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "") ||
        (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""),
    )[0];
}

/** The keys of every object of a kind in the namespace of `obj`: for watches whose change concerns all of them. */
export function allInNamespace(gvk: GroupVersionKind) {
  return (obj: KubeObject, cache: Cache): ObjectKey[] =>
    cache
      .list(gvk, obj.metadata.namespace)
      .map((o) => ({ namespace: o.metadata.namespace ?? "", name: o.metadata.name ?? "" }));
}

/** The key of the portal of the namespace of `obj`. */
export function portalOfObject(obj: KubeObject, cache: Cache): ObjectKey[] {
  const portal = portalOf(cache, obj.metadata.namespace ?? "");
  return portal ? [{ namespace: portal.metadata.namespace ?? "", name: portal.metadata.name ?? "" }] : [];
}

/** A resource of a kind by name in a namespace, unless it is being deleted. */
export function live<T>(
  cache: Cache,
  gvk: GroupVersionKind,
  namespace: string,
  name: string,
): Cached<T> | undefined {
  const obj = cache.get<Cached<T>>(gvk, { namespace, name });
  return obj && alive(obj) ? obj : undefined;
}

/** Subscriptions of a namespace, optionally only those matching a predicate. */
export function subscriptionsIn(
  cache: Cache,
  namespace: string,
  where: (s: Subscription) => boolean = () => true,
): Cached<Subscription>[] {
  return cache.list<Cached<Subscription>>(SUBSCRIPTION, namespace).filter(where);
}

/** The kinds' GVKs, re-exported for controllers that import only this module. */
export const KINDS = { API, APICLIENT, APIPORTAL, PLAN, SECRET, SUBSCRIPTION };

/** Why the read model cannot be written, or the database to write it to. */
export function readModelOf(
  cache: Cache,
  databases: PortalDatabases,
  namespace: string,
): { db?: Kysely<Database>; portal?: Cached<ApiPortal>; problem?: string } {
  const portal = portalOf(cache, namespace);
  if (!portal) return { problem: `There is no ApiPortal in namespace ${namespace}; create one first` };
  if (!isConditionTrue(portal.status?.conditions, "DatabaseReady")) {
    return {
      portal,
      problem: `The database of ApiPortal ${portal.metadata.name} is not ready; see its DatabaseReady condition`,
    };
  }
  const ref = portal.spec.database.urlSecretRef;
  const secret = cache.get<V1Secret & KubeObject>(SECRET, { namespace, name: ref.name });
  const value = secret?.data?.[ref.key];
  if (value === undefined)
    return { portal, problem: `Secret ${namespace}/${ref.name} has no key ${ref.key}` };
  return { portal, db: databases.pool(Buffer.from(value, "base64").toString("utf8")) };
}

/** Re-exported for the controllers' signatures. */
export type { Api, ApiClient, ApiPortal, Plan, Subscription };
