/**
 * Update filters for watches (WatchSpec.relevant), like controller-runtime's predicates: most controllers
 * care about a parent's spec, not about every status write to it, and queuing every child on a status write
 * turns a rollout of N objects into N² reconciles.
 */
import { type Condition, isConditionTrue } from "./conditions.ts";
import type { KubeObject } from "./types.ts";

type Update = (oldObj: KubeObject, newObj: KubeObject) => boolean;

/** The spec changed (metadata.generation), or a deletion began. */
export const specChanged: Update = (oldObj, newObj) =>
  oldObj.metadata.generation !== newObj.metadata.generation ||
  !oldObj.metadata.deletionTimestamp !== !newObj.metadata.deletionTimestamp;

/** The spec changed, a deletion began, or one of these conditions turned True or stopped being True. */
export function specOrConditionChanged(...types: string[]): Update {
  const conditions = (o: KubeObject) => (o as { status?: { conditions?: Condition[] } }).status?.conditions;
  return (oldObj, newObj) =>
    specChanged(oldObj, newObj) ||
    types.some((t) => isConditionTrue(conditions(oldObj), t) !== isConditionTrue(conditions(newObj), t));
}
