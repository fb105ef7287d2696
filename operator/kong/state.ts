/**
 * The shape of a Kong state, desired or actual: the entities of the Admin API collections wicked uses, each
 * with its id, owner and a secret-free label. The desired state (desired.ts) and the state read from Kong
 * (sync.ts) have the same shape, so the diff (diff.ts) is a pure function of two values.
 */
import type { KongEntity } from "./admin-client.ts";
import { describeResource, ownerFromTags, type ResourceRef } from "./tags.ts";

/**
 * The Admin API collections wicked manages, in the order their members are created (and, reversed, deleted).
 * Routes come last: a route makes its service reachable, so the service's auth and ACL plugins must exist
 * before it, or a new API would be open to anyone for a moment (and its routes go first when it is removed).
 */
export const CREATION_ORDER = [
  "services",
  "consumers",
  "acls",
  "key-auths",
  "jwts",
  "plugins",
  "routes",
] as const;

/** One Admin API collection (`/services`, `/key-auths`, …). */
export type KongCollection = (typeof CREATION_ORDER)[number];

/** A JSON value as sent to and received from the Admin API. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** Where the fields of an entity come from: the resource and the spec field a user changes to fix it. */
export interface EntityOrigin {
  readonly resource: ResourceRef;
  /** A path into the resource, e.g. `spec.routes[0]` or `spec.plugins[name=cors]`. */
  readonly field: string;
}

/** One Kong entity. */
export interface KongStateEntity {
  readonly collection: KongCollection;
  /** The Kong id; for desired entities derived from `key` (ids.ts). */
  readonly id: string;
  /**
   * The natural key the id is derived from, e.g. `route:shop/orders#0`; known for desired entities only. Keys
   * of credentials contain a fingerprint, never the credential, but are still kept out of reports.
   */
  readonly key?: string;
  /** The resource owning the entity (its owner tag); absent for an entity read from Kong without one. */
  readonly owner?: ResourceRef;
  /** Where the entity's fields come from, for error messages; desired entities only. */
  readonly origin?: EntityOrigin;
  /**
   * A description that names no secret, for reports, events and logs, e.g. `consumer "wicked.shop.a" of
   * Subscription shop/a`; reads well after "Kong".
   */
  readonly label: string;
  /**
   * Desired: exactly the fields wicked sets (the body of its PUT), including `tags` and foreign keys as
   * `{ "id": … }`. Actual: every field Kong returned.
   */
  readonly fields: JsonObject;
  /** Whether `fields` hold a credential (key-auth key, jwt credential); such entities are referred to by owner only. */
  readonly sensitive: boolean;
}

/** A set of Kong entities keyed by id (for desired entities the id is a function of the natural key). */
export interface KongState {
  readonly entities: ReadonlyMap<string, KongStateEntity>;
}

/** Builds a state from entities; a later entity with the same id replaces an earlier one. */
export function kongState(entities: Iterable<KongStateEntity>): KongState {
  return { entities: new Map([...entities].map((e) => [e.id, e])) };
}

/** The ids of the entities `fields` points at through foreign keys (`service`, `route`, `consumer`). */
export function referencedIds(fields: JsonObject): string[] {
  const ids: string[] = [];
  for (const name of ["service", "route", "consumer"]) {
    const ref = fields[name];
    if (typeof ref === "object" && ref !== null && !Array.isArray(ref) && typeof ref.id === "string") {
      ids.push(ref.id);
    }
  }
  return ids;
}

/** The state of one collection as read from Kong: owner from the tags, label from the owner. */
export function actualEntity(collection: KongCollection, entity: KongEntity): KongStateEntity {
  const owner = ownerFromTags(entity.tags);
  const sensitive = collection === "key-auths" || collection === "jwts";
  const label = `${collection.replace(/s$/, "")} ${entity.id}${owner ? ` of ${describeResource(owner)}` : ""}`;
  const fields = entity as unknown as JsonObject;
  return owner
    ? { collection, id: entity.id, owner, label, fields, sensitive }
    : { collection, id: entity.id, label, fields, sensitive };
}
