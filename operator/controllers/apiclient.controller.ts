/**
 * The ApiClient controller: gives the application its OAuth2 client id, writes the read model and counts
 * the application's subscriptions.
 */
import type { ApiClient, Subscription } from "../../api/v1alpha1/index.ts";
import type { Condition } from "../../controller-runtime/conditions.ts";
import type { ControllerOptions, ReconcileContext } from "../../controller-runtime/controller.ts";
import { withFinalizer } from "../../controller-runtime/finalizer.ts";
import { specChanged, specOrConditionChanged } from "../../controller-runtime/predicates.ts";
import type { ObjectKey, Result } from "../../controller-runtime/types.ts";
import { APICLIENT, APIPORTAL, SUBSCRIPTION } from "../gvks.ts";
import { clientRow, deleteRow, upsertRow } from "../readmodel.ts";
import { applyOwnStatus, type ConditionInput, readyFrom } from "../status.ts";
import { allInNamespace, type Cached, readModelOf, subscriptionsIn } from "../world.ts";
import {
  COUNTS_BATCH_DELAY_MS,
  merged,
  READ_MODEL_FINALIZER,
  RECHECK_MS,
  type ResourceControllerDeps,
} from "./resources.ts";

/** The application's OAuth2 client id: stable for the life of the resource, derived from its UID. */
export function applicationClientId(client: ApiClient): string {
  return `app-${(client.metadata.uid ?? "").replaceAll("-", "").slice(0, 20)}`;
}

async function reconcileClient(
  client: Cached<ApiClient>,
  ctx: ReconcileContext,
  deps: ResourceControllerDeps,
): Promise<Result> {
  const namespace = client.metadata.namespace ?? "";
  const clientId = applicationClientId(client);
  const readModel = readModelOf(ctx.cache, deps.databases, namespace);
  if (readModel.db && readModel.portal) {
    await upsertRow(
      readModel.db,
      "clients",
      clientRow({ ...client, status: { ...client.status, clientId } }, readModel.portal.metadata.name ?? ""),
    );
  }
  const own: ConditionInput[] = [
    readModel.problem
      ? { type: "ReadModelSynced", status: "False", reason: "PortalNotReady", message: readModel.problem }
      : {
          type: "ReadModelSynced",
          status: "True",
          reason: "Synced",
          message: "The portal lists this application",
        },
  ];
  const ready = readyFrom(
    merged(client.status?.conditions, own) as Condition[],
    ["ReadModelSynced"],
    "The application is registered",
  );
  const subscriptionCount = subscriptionsIn(
    ctx.cache,
    namespace,
    (s) => s.spec.clientRef.name === client.metadata.name,
  ).length;
  await applyOwnStatus(ctx, client, [...own, ready], { clientId, subscriptionCount });
  return readModel.problem ? { requeueAfterMs: RECHECK_MS } : {};
}

async function cleanupClient(
  client: Cached<ApiClient>,
  ctx: ReconcileContext,
  deps: ResourceControllerDeps,
): Promise<Result> {
  const namespace = client.metadata.namespace ?? "";
  const { db } = readModelOf(ctx.cache, deps.databases, namespace);
  if (db) await deleteRow(db, "clients", namespace, client.metadata.name ?? "");
  return {};
}

/** The ApiClient controller's registration. */
export function apiClientController(deps: ResourceControllerDeps): ControllerOptions {
  return {
    name: "apiclient",
    for: APICLIENT,
    watches: [
      { gvk: APIPORTAL, map: allInNamespace(APICLIENT), relevant: specOrConditionChanged("DatabaseReady") },
      // Counted (status.subscriptionCount) on creation and deletion only.
      {
        gvk: SUBSCRIPTION,
        map: (s) => [
          { namespace: s.metadata.namespace ?? "", name: (s as Cached<Subscription>).spec.clientRef.name },
        ],
        relevant: specChanged,
        batchDelayMs: COUNTS_BATCH_DELAY_MS,
      },
    ],
    async reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<Result> {
      const client = ctx.cache.get<Cached<ApiClient>>(APICLIENT, key);
      if (!client) return {};
      return withFinalizer(ctx.client, APICLIENT, client, READ_MODEL_FINALIZER, {
        apply: (c) => reconcileClient(c, ctx, deps),
        cleanup: (c) => cleanupClient(c, ctx, deps),
      });
    },
  };
}
