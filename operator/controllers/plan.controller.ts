/**
 * The Plan controller: counts the Apis offering the plan, writes the read model, and holds a deletion while
 * subscriptions still use the plan.
 */
import type { Api, Plan, Subscription } from "../../api/v1alpha1/index.ts";
import type { Condition } from "../../controller-runtime/conditions.ts";
import type { ControllerOptions, ReconcileContext } from "../../controller-runtime/controller.ts";
import { withFinalizer } from "../../controller-runtime/finalizer.ts";
import { specChanged, specOrConditionChanged } from "../../controller-runtime/predicates.ts";
import type { ObjectKey, Result } from "../../controller-runtime/types.ts";
import { API, APIPORTAL, PLAN, SUBSCRIPTION } from "../gvks.ts";
import { deleteRow, planRow, upsertRow } from "../readmodel.ts";
import { applyOwnStatus, type ConditionInput, readyFrom } from "../status.ts";
import { allInNamespace, type Cached, readModelOf, subscriptionsIn } from "../world.ts";
import {
  COUNTS_BATCH_DELAY_MS,
  holdWhileSubscribed,
  merged,
  READ_MODEL_FINALIZER,
  RECHECK_MS,
  type ResourceControllerDeps,
} from "./resources.ts";

async function reconcilePlan(
  plan: Cached<Plan>,
  ctx: ReconcileContext,
  deps: ResourceControllerDeps,
): Promise<Result> {
  const namespace = plan.metadata.namespace ?? "";
  const name = plan.metadata.name ?? "";
  const readModel = readModelOf(ctx.cache, deps.databases, namespace);
  if (readModel.db && readModel.portal)
    await upsertRow(readModel.db, "plans", planRow(plan, readModel.portal.metadata.name ?? ""));
  const apiCount = ctx.cache
    .list<Cached<Api>>(API, namespace)
    .filter((a) => a.spec.plans?.includes(name)).length;
  const synced: ConditionInput = readModel.problem
    ? { type: "ReadModelSynced", status: "False", reason: "PortalNotReady", message: readModel.problem }
    : { type: "ReadModelSynced", status: "True", reason: "Synced", message: "The portal lists this plan" };
  const own = [synced];
  const ready = readyFrom(
    merged(plan.status?.conditions, own) as Condition[],
    ["ReadModelSynced"],
    "The plan is offered in the portal",
  );
  await applyOwnStatus(ctx, plan, [...own, ready], { apiCount });
  return readModel.problem ? { requeueAfterMs: RECHECK_MS } : {};
}

async function cleanupPlan(
  plan: Cached<Plan>,
  ctx: ReconcileContext,
  deps: ResourceControllerDeps,
): Promise<Result> {
  const namespace = plan.metadata.namespace ?? "";
  const users = subscriptionsIn(ctx.cache, namespace, (s) => s.spec.planRef.name === plan.metadata.name);
  await holdWhileSubscribed(ctx, plan, users, "plan", "delete them or move them to another plan");
  const { db } = readModelOf(ctx.cache, deps.databases, namespace);
  if (db) await deleteRow(db, "plans", namespace, plan.metadata.name ?? "");
  return {};
}

/** The Plan controller's registration. */
export function planController(deps: ResourceControllerDeps): ControllerOptions {
  return {
    name: "plan",
    for: PLAN,
    watches: [
      {
        gvk: API,
        map: (api) =>
          ((api as Cached<Api>).spec.plans ?? []).map((name) => ({
            namespace: api.metadata.namespace ?? "",
            name,
          })),
      },
      { gvk: APIPORTAL, map: allInNamespace(PLAN), relevant: specOrConditionChanged("DatabaseReady") },
      // A deleted subscription may release a plan whose deletion is held; a moved one too.
      {
        gvk: SUBSCRIPTION,
        map: (s) => [
          { namespace: s.metadata.namespace ?? "", name: (s as Cached<Subscription>).spec.planRef.name },
        ],
        relevant: specChanged,
        batchDelayMs: COUNTS_BATCH_DELAY_MS,
      },
    ],
    async reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<Result> {
      const plan = ctx.cache.get<Cached<Plan>>(PLAN, key);
      if (!plan) return {};
      return withFinalizer(ctx.client, PLAN, plan, READ_MODEL_FINALIZER, {
        apply: (p) => reconcilePlan(p, ctx, deps),
        cleanup: (p) => cleanupPlan(p, ctx, deps),
      });
    },
  };
}
