/**
 * What the Api, Plan, ApiClient and Subscription controllers share: their dependencies, the finalizer that
 * keeps the read model in step, and the merge of own and others' conditions.
 */
import type { Subscription } from "../../api/v1alpha1/index.ts";
import type { Condition } from "../../controller-runtime/conditions.ts";
import type { ReconcileContext } from "../../controller-runtime/controller.ts";
import type { PortalDatabases } from "../apiportal/database.ts";
import type { ConditionInput } from "../status.ts";
import { applyOwnStatus, type WithStatus } from "../status.ts";

/** Finalizer that removes a resource's read-model row (and holds resources still in use). */
export const READ_MODEL_FINALIZER = "wicked.dev/read-model";
/** How often a resource waiting for something outside the cluster's events is looked at again. */
export const RECHECK_MS = 20_000;
/**
 * How long the Api, Plan and ApiClient controllers let Subscription events gather: their subscription counts
 * then change a few times while a thousand Subscriptions roll out, not once per Subscription.
 */
export const COUNTS_BATCH_DELAY_MS = 5000;

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

/**
 * Holds the deletion of a resource that subscriptions still use: says so in its Ready condition and throws,
 * so the finalizer stays until the last subscription is gone (whose deletion triggers a new reconcile).
 */
export async function holdWhileSubscribed(
  ctx: ReconcileContext,
  obj: WithStatus,
  users: Subscription[],
  noun: string,
  advice: string,
): Promise<void> {
  if (users.length === 0) return;
  const names = users
    .slice(0, 5)
    .map((s) => s.metadata.name)
    .join(", ");
  const message = `Deletion is held: ${users.length} subscription(s) use this ${noun} (${names}${users.length > 5 ? ", …" : ""}); ${advice}`;
  await applyOwnStatus(ctx, obj, [{ type: "Ready", status: "False", reason: "DeletionBlocked", message }]);
  throw new DeletionBlockedError(message);
}
