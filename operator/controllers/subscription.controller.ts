/**
 * The Subscription controller: resolves the client, Api and Plan; decides approval; issues, rotates or
 * takes (bring-your-own) the credentials; writes the read model. Kong is programmed by the gateway
 * controller, which owns the Programmed condition; phase and Ready summarise both.
 */
import { randomBytes } from "node:crypto";
import type { V1Secret } from "@kubernetes/client-node";
import type { Api, ApiClient, Plan, Subscription, SubscriptionStatus } from "../../api/v1alpha1/index.ts";
import { currentObject, ensure } from "../ensure.ts";
import { API, APICLIENT, APIPORTAL, PLAN, SECRET, SUBSCRIPTION } from "../gvks.ts";
import { deleteRow, subscriptionRow, upsertRow } from "../readmodel.ts";
import type { Condition } from "../runtime/conditions.ts";
import type { ControllerOptions, ReconcileContext } from "../runtime/controller.ts";
import { withFinalizer } from "../runtime/finalizer.ts";
import type { KubeObject, ObjectKey, Result } from "../runtime/types.ts";
import { applyOwnStatus, type ConditionInput, readyFrom } from "../status.ts";
import { approvalState } from "../subscription/approval.ts";
import {
  byoCredential,
  credentialsSecretName,
  desiredCredentialsSecret,
} from "../subscription/credentials.ts";
import { allInNamespace, type Cached, live, portalOf, readModelOf } from "../world.ts";
import { merged, READ_MODEL_FINALIZER, RECHECK_MS, type ResourceControllerDeps } from "./resources.ts";

/** Why a subscription's references do not resolve; undefined when they do. Pure. */
export function unresolvedSubscriptionRefs(
  sub: Subscription,
  client?: ApiClient,
  api?: Api,
  plan?: Plan,
): string | undefined {
  const problems: string[] = [];
  if (!client) problems.push(`ApiClient ${sub.spec.clientRef.name} does not exist`);
  if (!api) problems.push(`Api ${sub.spec.apiRef.name} does not exist`);
  if (!plan) problems.push(`Plan ${sub.spec.planRef.name} does not exist`);
  if (api && plan && !(api.spec.plans ?? []).includes(sub.spec.planRef.name)) {
    problems.push(
      `Api ${sub.spec.apiRef.name} does not offer plan ${sub.spec.planRef.name} (it offers ${(api.spec.plans ?? []).join(", ") || "none"}); choose one of those`,
    );
  }
  if (api && (api.spec.auth?.type ?? "key-auth") === "none")
    problems.push(`Api ${sub.spec.apiRef.name} is open (auth type none) and needs no subscription`);
  return problems.length > 0 ? problems.join("; ") : undefined;
}

/** The one-word phase from the conditions. Pure. */
export function phaseOf(
  refsOk: boolean,
  approval: { approved: boolean; rejected: boolean } | undefined,
  credentialsOk: boolean,
  programmed: boolean,
): NonNullable<SubscriptionStatus["phase"]> {
  if (approval?.rejected) return "Rejected";
  if (!refsOk || !approval) return "Pending";
  if (!approval.approved) return "PendingApproval";
  if (!credentialsOk) return "Failed";
  return programmed ? "Active" : "Provisioning";
}

async function reconcileSubscription(
  sub: Cached<Subscription>,
  ctx: ReconcileContext,
  deps: ResourceControllerDeps,
): Promise<Result> {
  const namespace = sub.metadata.namespace ?? "";
  const client = live<ApiClient>(ctx.cache, APICLIENT, namespace, sub.spec.clientRef.name);
  const api = live<Api>(ctx.cache, API, namespace, sub.spec.apiRef.name);
  const plan = live<Plan>(ctx.cache, PLAN, namespace, sub.spec.planRef.name);
  const portal = portalOf(ctx.cache, namespace);
  const refsProblem =
    unresolvedSubscriptionRefs(sub, client, api, plan) ??
    (portal ? undefined : `There is no ApiPortal in namespace ${namespace}`);
  const approval = plan ? approvalState(sub, plan) : undefined;

  const own: ConditionInput[] = [
    refsProblem
      ? { type: "ResolvedRefs", status: "False", reason: "RefNotFound", message: refsProblem }
      : {
          type: "ResolvedRefs",
          status: "True",
          reason: "Resolved",
          message: "The client, API and plan exist",
        },
    approval
      ? {
          type: "Approved",
          status: approval.approved ? "True" : "False",
          reason: approval.reason,
          message: approval.message,
        }
      : {
          type: "Approved",
          status: "Unknown",
          reason: "RefNotFound",
          message: "The plan does not exist yet",
        },
  ];
  const fields: Record<string, unknown> = {};
  let credentialsOk = false;
  let recheckAt: Date | undefined;
  const generatedName = credentialsSecretName(sub);

  if (!refsProblem && approval?.approved && api && portal) {
    const byo = sub.spec.credentials?.secretRef;
    if (byo) {
      const { problem } = byoCredential(
        api,
        ctx.cache.get<V1Secret & KubeObject>(SECRET, { namespace, name: byo.name }),
      );
      credentialsOk = !problem;
      own.push(
        problem
          ? {
              type: "CredentialsReady",
              status: "False",
              reason: "InvalidSecret",
              message: `Secret ${namespace}/${byo.name} ${problem}`,
            }
          : {
              type: "CredentialsReady",
              status: "True",
              reason: "BringYourOwn",
              message: `Credentials come from Secret ${byo.name}`,
            },
      );
      fields.credentialsSecret = byo.name;
    } else {
      const existing = await currentObject<V1Secret & KubeObject>(ctx, SECRET, {
        namespace,
        name: generatedName,
      });
      const random = deps.randomToken ?? ((n: number) => randomBytes(n).toString("base64url"));
      const decision = desiredCredentialsSecret(sub, api, portal, existing, random, ctx.now());
      const wrote = await ensure(ctx, SECRET, sub, decision.secret as KubeObject);
      if (wrote && existing)
        await ctx.recorder.event(sub, "Normal", "CredentialsRotated", "Rotated the credentials");
      credentialsOk = true;
      recheckAt = decision.recheckAt;
      own.push({
        type: "CredentialsReady",
        status: "True",
        reason: "Issued",
        message: `Credentials are in Secret ${generatedName}`,
      });
      fields.credentialsSecret = generatedName;
      fields.credentialsIssuedAt = decision.issuedAt;
    }
  } else {
    if (approval?.rejected && ctx.cache.get(SECRET, { namespace, name: generatedName })) {
      await ctx.client.delete(SECRET, { namespace, name: generatedName });
    }
    const why = refsProblem
      ? "The references do not resolve"
      : approval?.rejected
        ? "The subscription was rejected"
        : "Waiting for approval";
    own.push({
      type: "CredentialsReady",
      status: "False",
      reason: approval?.rejected ? "Rejected" : refsProblem ? "RefNotFound" : "NotApproved",
      message: `${why}; no credentials are issued`,
    });
  }

  const all = merged(sub.status?.conditions, own) as Condition[];
  const programmed = all.find((c) => c.type === "Programmed")?.status === "True";
  fields.phase = phaseOf(!refsProblem, approval, credentialsOk, programmed);
  const ready = readyFrom(
    all,
    ["ResolvedRefs", "Approved", "CredentialsReady", "Programmed"],
    "The credentials work at the gateway",
  );
  await applyOwnStatus(ctx, sub, [...own, ready], fields);

  const readModel = readModelOf(ctx.cache, deps.databases, namespace);
  if (readModel.db && readModel.portal) {
    const row = subscriptionRow(
      { ...sub, status: { ...sub.status, ...fields } },
      readModel.portal.metadata.name ?? "",
      client?.spec.owner ?? "",
    );
    await upsertRow(readModel.db, "subscriptions", row);
  }
  const waits = [
    readModel.problem ? RECHECK_MS : undefined,
    recheckAt ? Math.max(0, recheckAt.getTime() - ctx.now().getTime()) + 1000 : undefined,
  ].filter((x): x is number => x !== undefined);
  return waits.length > 0 ? { requeueAfterMs: Math.min(...waits) } : {};
}

async function cleanupSubscription(
  sub: Cached<Subscription>,
  ctx: ReconcileContext,
  deps: ResourceControllerDeps,
): Promise<Result> {
  const namespace = sub.metadata.namespace ?? "";
  const { db } = readModelOf(ctx.cache, deps.databases, namespace);
  if (db) await deleteRow(db, "subscriptions", namespace, sub.metadata.name ?? "");
  return {};
}

function referencing(field: "clientRef" | "apiRef" | "planRef") {
  return (obj: KubeObject, cache: import("../runtime/cache.ts").Cache): ObjectKey[] =>
    cache
      .list<Cached<Subscription>>(SUBSCRIPTION, obj.metadata.namespace)
      .filter((s) => s.spec[field].name === obj.metadata.name)
      .map((s) => ({ namespace: s.metadata.namespace ?? "", name: s.metadata.name ?? "" }));
}

/** The Subscription controller's registration. */
export function subscriptionController(deps: ResourceControllerDeps): ControllerOptions {
  return {
    name: "subscription",
    for: SUBSCRIPTION,
    owns: [SECRET],
    concurrency: 4,
    watches: [
      { gvk: APICLIENT, map: referencing("clientRef") },
      { gvk: API, map: referencing("apiRef") },
      { gvk: PLAN, map: referencing("planRef") },
      { gvk: APIPORTAL, map: allInNamespace(SUBSCRIPTION) },
      // Bring-your-own credentials Secrets are not owned; a change to one concerns the subscriptions naming it.
      {
        gvk: SECRET,
        map: (secret, cache) =>
          cache
            .list<Cached<Subscription>>(SUBSCRIPTION, secret.metadata.namespace)
            .filter((s) => s.spec.credentials?.secretRef?.name === secret.metadata.name)
            .map((s) => ({ namespace: s.metadata.namespace ?? "", name: s.metadata.name ?? "" })),
      },
    ],
    async reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<Result> {
      const sub = ctx.cache.get<Cached<Subscription>>(SUBSCRIPTION, key);
      if (!sub) return {};
      return withFinalizer(ctx.client, SUBSCRIPTION, sub, READ_MODEL_FINALIZER, {
        apply: (s) => reconcileSubscription(s, ctx, deps),
        cleanup: (s) => cleanupSubscription(s, ctx, deps),
      });
    },
  };
}
