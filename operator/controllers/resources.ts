/**
 * What the Api, Plan, ApiClient and Subscription controllers share: their dependencies, the finalizer that
 * keeps the read model in step, and the merge of own and others' conditions.
 */
import type { PortalDatabases } from "../apiportal/database.ts";
import type { Condition } from "../runtime/conditions.ts";
import type { ConditionInput } from "../status.ts";

/** Finalizer that removes a resource's read-model row (and holds resources still in use). */
export const READ_MODEL_FINALIZER = "wicked.dev/read-model";
/** How often a resource waiting for something outside the cluster's events is looked at again. */
export const RECHECK_MS = 20_000;

/** What the resource controllers need. */
export interface ResourceControllerDeps {
  databases: PortalDatabases;
  /** Random URL-safe tokens for credentials. */
  randomToken?: (bytes: number) => string;
}

/** The conditions after replacing those a controller computes; for summaries such as Ready. */
export function merged(
  existing: Condition[] | undefined,
  own: ConditionInput[],
): Array<ConditionInput | Condition> {
  return [...own, ...(existing ?? []).filter((c) => !own.some((o) => o.type === c.type))];
}

/** A deletion waits for something (subscriptions still using the resource); retried when that changes. */
export class DeletionBlockedError extends Error {
  override readonly name = "DeletionBlockedError";
}
