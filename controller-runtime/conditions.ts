/**
 * Status conditions following the Kubernetes API conventions (metav1.Condition), as pure functions so a
 * reconciler computes the new status and only writes it when something really changed.
 */
import { rfc3339 } from "./time.ts";

/** One observation of an object's state; the shape of metav1.Condition and of api/v1alpha1's Condition. */
export interface Condition {
  /** CamelCase type, e.g. `Ready`. */
  type: string;
  status: "True" | "False" | "Unknown";
  /** CamelCase machine-readable reason of the last transition, kept as a constant by the controller. */
  reason: string;
  /** What is wrong and what to do about it, for a human. */
  message: string;
  /** The metadata.generation the condition was computed from. */
  observedGeneration?: number;
  /** When status last changed (RFC 3339, second precision). */
  lastTransitionTime: string;
}

/** The outcome of setCondition: the new list and whether it differs from the old one. */
export interface SetConditionResult {
  conditions: Condition[];
  changed: boolean;
}

/**
 * Sets a condition like apimachinery's meta.SetStatusCondition: adds it if missing, otherwise updates reason,
 * message and observedGeneration, and moves lastTransitionTime to `now` only when the status changes. Returns
 * a new list (the input is not modified) and whether anything changed, so an unchanged status is not written.
 */
export function setCondition(
  conditions: readonly Condition[],
  condition: Omit<Condition, "lastTransitionTime">,
  now: Date,
): SetConditionResult {
  const index = conditions.findIndex((c) => c.type === condition.type);
  const existing = conditions[index];
  if (index < 0 || !existing) {
    return { conditions: [...conditions, { ...condition, lastTransitionTime: rfc3339(now) }], changed: true };
  }
  const next: Condition = {
    ...existing,
    status: condition.status,
    reason: condition.reason,
    message: condition.message,
    lastTransitionTime: existing.status === condition.status ? existing.lastTransitionTime : rfc3339(now),
  };
  if (condition.observedGeneration !== undefined) next.observedGeneration = condition.observedGeneration;
  const changed =
    next.status !== existing.status ||
    next.reason !== existing.reason ||
    next.message !== existing.message ||
    next.observedGeneration !== existing.observedGeneration;
  if (!changed) return { conditions: [...conditions], changed: false };
  const updated = [...conditions];
  updated[index] = next;
  return { conditions: updated, changed: true };
}

/** The condition of a type, if present. */
export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * True when the condition of a type is `True` and, if `generation` is given, was computed from that
 * generation (a Ready=True from an older spec does not count).
 */
export function isConditionTrue(
  conditions: readonly Condition[] | undefined,
  type: string,
  generation?: number,
): boolean {
  const c = findCondition(conditions, type);
  return c?.status === "True" && (generation === undefined || c.observedGeneration === generation);
}

/** Removes the condition of a type; `changed` says whether it was there. */
export function removeCondition(conditions: readonly Condition[], type: string): SetConditionResult {
  const kept = conditions.filter((c) => c.type !== type);
  return { conditions: kept, changed: kept.length !== conditions.length };
}
