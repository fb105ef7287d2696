/**
 * The writes that turn the actual Kong state into the desired one, in an order Kong accepts. Pure.
 *
 * Deletes come first, dependents before what they depend on (plugins, credentials, routes, consumers,
 * services): an entity wicked no longer wants may hold a name or key that a desired one needs. Creates and
 * updates follow, dependencies first (services, routes, consumers, credentials and acls, plugins). Entities
 * that Kong deletes by cascade with a deleted consumer or service (its credentials and plugins) get no write
 * of their own. An in-sync world gives an empty plan.
 */
import { changedFields } from "./compare.ts";
import {
  CREATION_ORDER,
  type KongCollection,
  type KongState,
  type KongStateEntity,
  referencedIds,
} from "./state.ts";

/** Creates an entity that Kong lacks (`PUT /{collection}/{id}`). */
export interface CreateStep {
  readonly action: "create";
  readonly desired: KongStateEntity;
}

/** Replaces an entity whose fields differ from the desired ones (`PUT /{collection}/{id}`). */
export interface UpdateStep {
  readonly action: "update";
  readonly desired: KongStateEntity;
  readonly actual: KongStateEntity;
  /** Names of the fields that differ (never their values: some are credentials). */
  readonly changedFields: readonly string[];
}

/** Deletes an entity wicked no longer wants (`DELETE /{collection}/{id}`), or notes Kong's cascade. */
export interface DeleteStep {
  readonly action: "delete";
  readonly actual: KongStateEntity;
  /** Set when Kong deletes the entity itself with this parent (a consumer's or service's id): no write. */
  readonly cascadedBy?: string;
}

/** One step of a plan. */
export type KongPlanStep = CreateStep | UpdateStep | DeleteStep;

/** The steps of a sync in the order they must be applied; empty when Kong is in sync. */
export interface KongPlan {
  readonly steps: readonly KongPlanStep[];
  /** Desired entities Kong already holds as desired. */
  readonly inSync: readonly KongStateEntity[];
}

/** Collections in the order their members are deleted: dependents first. */
const DELETE_ORDER: readonly KongCollection[] = [...CREATION_ORDER].reverse();

/** Parents whose deletion makes Kong delete their children (plugins, credentials and acls cascade). */
const CASCADING_PARENTS: readonly KongCollection[] = ["consumers", "services"];

function byCollection<T>(
  items: readonly T[],
  collection: (item: T) => KongCollection,
  order: readonly KongCollection[],
): T[] {
  return [...items].sort((a, b) => order.indexOf(collection(a)) - order.indexOf(collection(b)));
}

/** The plan that makes `actual` equal `desired` in the fields wicked sets. */
export function diffKongState(desired: KongState, actual: KongState): KongPlan {
  const upserts: Array<CreateStep | UpdateStep> = [];
  const inSync: KongStateEntity[] = [];
  for (const entity of desired.entities.values()) {
    const current = actual.entities.get(entity.id);
    // The entity a previous sync left in Kong (SyncReport.after), unchanged since: nothing to compare.
    if (current === entity) {
      inSync.push(entity);
      continue;
    }
    if (!current || current.collection !== entity.collection) {
      upserts.push({ action: "create", desired: entity });
      continue;
    }
    const changed = changedFields(entity.fields, current.fields);
    if (changed.length === 0) inSync.push(entity);
    else upserts.push({ action: "update", desired: entity, actual: current, changedFields: changed });
  }
  const unwanted = [...actual.entities.values()].filter(
    (e) => desired.entities.get(e.id)?.collection !== e.collection,
  );
  const deletedParents = new Set(
    unwanted.filter((e) => CASCADING_PARENTS.includes(e.collection)).map((e) => e.id),
  );
  const deletes: DeleteStep[] = unwanted.map((entity) => {
    const parent =
      entity.collection === "routes"
        ? undefined
        : referencedIds(entity.fields).find((id) => deletedParents.has(id));
    return parent
      ? { action: "delete", actual: entity, cascadedBy: parent }
      : { action: "delete", actual: entity };
  });
  return {
    steps: [
      ...byCollection(deletes, (s) => s.actual.collection, DELETE_ORDER),
      ...byCollection(upserts, (s) => s.desired.collection, CREATION_ORDER),
    ],
    inSync,
  };
}

/** How many Admin API writes a plan costs (cascaded deletes cost none). */
export function planWrites(plan: KongPlan): number {
  return plan.steps.filter((s) => s.action !== "delete" || s.cascadedBy === undefined).length;
}
