/**
 * Writing a resource's status from several controllers: each applies (server-side) only the conditions and
 * fields it owns, under its own field manager, and only when something it owns changed.
 */

import type { Condition } from "../controller-runtime/conditions.ts";
import { setCondition } from "../controller-runtime/conditions.ts";
import type { ReconcileContext } from "../controller-runtime/controller.ts";
import type { KubeObject } from "../controller-runtime/types.ts";
import { deepEqual } from "./desired.ts";

/** A condition as a controller computes it: without lastTransitionTime and observedGeneration. */
export type ConditionInput = Pick<Condition, "type" | "status" | "reason" | "message">;

/** An object with conditions in its status. */
export type WithStatus = KubeObject & {
  apiVersion?: string;
  kind?: string;
  status?: { conditions?: Condition[] };
};

/**
 * Applies the given conditions and status fields if any differs from the object's current status. Returns
 * the conditions as they are afterwards (own and others'), for computing a summary such as Ready.
 */
export async function applyOwnStatus(
  ctx: ReconcileContext,
  obj: WithStatus,
  conditions: ConditionInput[],
  fields: Record<string, unknown> = {},
  fieldManager?: string,
): Promise<Condition[]> {
  const generation = obj.metadata.generation ?? 0;
  let all: Condition[] = obj.status?.conditions ?? [];
  let changed = false;
  for (const c of conditions) {
    const result = setCondition(all, { ...c, observedGeneration: generation }, ctx.now());
    all = result.conditions;
    changed ||= result.changed;
  }
  const current = (obj.status ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(fields)) changed ||= !deepEqual(current[key], value);
  if (changed) {
    const own = new Set(conditions.map((c) => c.type));
    const patch = {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      // The resourceVersion read makes the apply conditional: computed from a stale cache (a status written
      // a moment ago not seen yet), it would move lastTransitionTime again; instead it fails with a
      // Conflict and the reconcile runs again on the fresh object.
      metadata: {
        name: obj.metadata.name,
        namespace: obj.metadata.namespace,
        resourceVersion: obj.metadata.resourceVersion,
      },
      status: {
        ...fields,
        conditions: all.filter((c) => own.has(c.type)),
        ...(fieldManager ? {} : { observedGeneration: generation }),
      },
    };
    await ctx.client.applyStatus(patch as KubeObject, fieldManager ? { fieldManager } : {});
  }
  return all;
}

/** The Ready condition from the conditions it summarises: True when all are True. */
export function readyFrom(all: Condition[], types: string[], readyMessage: string): ConditionInput {
  const failing = types
    .map(
      (t) =>
        all.find((c) => c.type === t) ?? {
          type: t,
          status: "Unknown",
          reason: "Pending",
          message: "not evaluated yet",
        },
    )
    .filter((c) => c.status !== "True");
  if (failing.length === 0) return { type: "Ready", status: "True", reason: "Ready", message: readyMessage };
  const first = failing[0] as ConditionInput;
  return {
    type: "Ready",
    status: "False",
    reason: first.reason,
    message: failing.map((c) => `${c.type}: ${c.message}`).join("; "),
  };
}
