/**
 * The Api controller: resolves the plans and the upstream Service, writes the read model, counts active
 * subscriptions, and holds a deletion while subscriptions still use the Api. Kong is programmed by the
 * gateway controller, which owns the Programmed condition.
 */
import type { V1Service } from "@kubernetes/client-node";
import type { Api, Plan, Subscription } from "../../api/v1alpha1/index.ts";
import type { Condition } from "../../controller-runtime/conditions.ts";
import type { ControllerOptions, ReconcileContext } from "../../controller-runtime/controller.ts";
import { withFinalizer } from "../../controller-runtime/finalizer.ts";
import { specChanged, specOrConditionChanged } from "../../controller-runtime/predicates.ts";
import type { KubeObject, ObjectKey, Result } from "../../controller-runtime/types.ts";
import { API, APIPORTAL, PLAN, SERVICE, SUBSCRIPTION } from "../gvks.ts";
import { apiRow, deleteRow, upsertRow } from "../readmodel.ts";
import { applyOwnStatus, type ConditionInput, readyFrom } from "../status.ts";
import { allInNamespace, type Cached, live, readModelOf, subscriptionsIn } from "../world.ts";
import {
  COUNTS_BATCH_DELAY_MS,
  holdWhileSubscribed,
  merged,
  READ_MODEL_FINALIZER,
  RECHECK_MS,
  type ResourceControllerDeps,
} from "./resources.ts";

/** Which references of an Api do not resolve, as a user-actionable message; undefined when all do. */
export function unresolvedApiRefs(
  api: Api,
  plans: (name: string) => Plan | undefined,
  service: (name: string) => V1Service | undefined,
): string | undefined {
  const problems: string[] = [];
  const missing = (api.spec.plans ?? []).filter((p) => !plans(p));
  if (missing.length > 0)
    problems.push(`plan(s) ${missing.join(", ")} do not exist; create them or remove them from spec.plans`);
  const ref = api.spec.upstream.serviceRef;
  if (ref) {
    const svc = service(ref.name);
    if (!svc) problems.push(`Service ${ref.name} does not exist; create it or fix spec.upstream.serviceRef`);
    else if (!svc.spec?.ports?.some((p) => p.port === ref.port))
      problems.push(`Service ${ref.name} has no port ${ref.port}`);
  }
  return problems.length > 0 ? problems.join("; ") : undefined;
}

async function reconcileApi(
  api: Cached<Api>,
  ctx: ReconcileContext,
  deps: ResourceControllerDeps,
): Promise<Result> {
  const namespace = api.metadata.namespace ?? "";
  const problem = unresolvedApiRefs(
    api,
    (name) => live<Plan>(ctx.cache, PLAN, namespace, name),
    (name) => ctx.cache.get<V1Service & KubeObject>(SERVICE, { namespace, name }),
  );
  const readModel = readModelOf(ctx.cache, deps.databases, namespace);
  if (readModel.db && readModel.portal)
    await upsertRow(readModel.db, "apis", apiRow(api, readModel.portal.metadata.name ?? ""));
  const own: ConditionInput[] = [
    problem
      ? { type: "ResolvedRefs", status: "False", reason: "RefNotFound", message: problem }
      : {
          type: "ResolvedRefs",
          status: "True",
          reason: "Resolved",
          message: "Every plan and the upstream exist",
        },
    readModel.problem
      ? { type: "ReadModelSynced", status: "False", reason: "PortalNotReady", message: readModel.problem }
      : { type: "ReadModelSynced", status: "True", reason: "Synced", message: "The portal lists this API" },
  ];
  const all = merged(api.status?.conditions, own) as Condition[];
  const ready = readyFrom(
    all,
    ["ResolvedRefs", "ReadModelSynced", "Programmed"],
    "The API is published on the gateway",
  );
  const subscriptionCount = subscriptionsIn(
    ctx.cache,
    namespace,
    (s) => s.spec.apiRef.name === api.metadata.name && s.status?.phase === "Active",
  ).length;
  await applyOwnStatus(ctx, api, [...own, ready], { subscriptionCount });
  return readModel.problem ? { requeueAfterMs: RECHECK_MS } : {};
}

async function cleanupApi(
  api: Cached<Api>,
  ctx: ReconcileContext,
  deps: ResourceControllerDeps,
): Promise<Result> {
  const namespace = api.metadata.namespace ?? "";
  const users = subscriptionsIn(ctx.cache, namespace, (s) => s.spec.apiRef.name === api.metadata.name);
  await holdWhileSubscribed(ctx, api, users, "API", "delete them first");
  const { db } = readModelOf(ctx.cache, deps.databases, namespace);
  if (db) await deleteRow(db, "apis", namespace, api.metadata.name ?? "");
  return {};
}

const byApiRef = (s: KubeObject): ObjectKey[] => [
  { namespace: s.metadata.namespace ?? "", name: (s as Cached<Subscription>).spec.apiRef.name },
];

/** The Api controller's registration. */
export function apiController(deps: ResourceControllerDeps): ControllerOptions {
  return {
    name: "api",
    for: API,
    watches: [
      { gvk: PLAN, map: allInNamespace(API), relevant: specChanged },
      { gvk: SERVICE, map: allInNamespace(API) },
      { gvk: APIPORTAL, map: allInNamespace(API), relevant: specOrConditionChanged("DatabaseReady") },
      // Counted when Active (status.subscriptionCount); a rollout of many updates the count once per batch.
      { gvk: SUBSCRIPTION, map: byApiRef, batchDelayMs: COUNTS_BATCH_DELAY_MS },
    ],
    async reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<Result> {
      const api = ctx.cache.get<Cached<Api>>(API, key);
      if (!api) return {};
      return withFinalizer(ctx.client, API, api, READ_MODEL_FINALIZER, {
        apply: (a) => reconcileApi(a, ctx, deps),
        cleanup: (a) => cleanupApi(a, ctx, deps),
      });
    },
  };
}
