/**
 * The Subscription controller: resolves the client, Api and Plan; decides approval; issues, rotates or
 * takes (bring-your-own) the credentials; writes the read model and the whole status. Kong is programmed by
 * the gateway controller, whose verdict (ProgrammedSubscriptions) this controller writes as the Programmed
 * condition, so each Subscription has one status writer; phase and Ready summarise everything.
 */
import { randomBytes } from "node:crypto";
import type { V1Secret } from "@kubernetes/client-node";
import type { Api, ApiClient, Plan, Subscription, SubscriptionStatus } from "../../api/v1alpha1/index.ts";
import type { Cache, IndexSpec } from "../../controller-runtime/cache.ts";
import type { Condition } from "../../controller-runtime/conditions.ts";
import type { ControllerOptions, ReconcileContext } from "../../controller-runtime/controller.ts";
import { withFinalizer } from "../../controller-runtime/finalizer.ts";
import { labelValue } from "../../controller-runtime/labels.ts";
import { specChanged, specOrConditionChanged } from "../../controller-runtime/predicates.ts";
import type { KubeObject, ObjectKey, Result } from "../../controller-runtime/types.ts";
import { currentObject, ensure } from "../ensure.ts";
import { API, APICLIENT, APIPORTAL, PLAN, SECRET, SUBSCRIPTION } from "../gvks.ts";
import { deleteRow, subscriptionRow, upsertRow } from "../readmodel.ts";
import { applyOwnStatus, type ConditionInput, readyFrom } from "../status.ts";
import { approvalState } from "../subscription/approval.ts";
import {
  byoCredential,
  credentialsSecretName,
  desiredCredentialsSecret,
  SUBSCRIPTION_LABEL,
} from "../subscription/credentials.ts";
import type { ProgrammedSubscriptions } from "../subscription/programmed.ts";
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

/** What the Subscription controller needs. */
export interface SubscriptionControllerDeps extends ResourceControllerDeps {
  /** The gateway's verdicts; a changed one queues its Subscription. */
  programmed: ProgrammedSubscriptions;
}

/**
 * How long a new Subscription whose credentials are issued waits for the gateway's verdict before its first
 * status is written anyway: in the usual case the one write says Active.
 */
const GATEWAY_GRACE_MS = 30_000;

async function reconcileSubscription(
  sub: Cached<Subscription>,
  ctx: ReconcileContext,
  deps: SubscriptionControllerDeps,
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
      // The cache holds only granted Secrets: a read tells "not granted yet" from "does not exist".
      const { problem, reason } = byoCredential(
        sub,
        api,
        await currentObject<V1Secret & KubeObject>(ctx, SECRET, { namespace, name: byo.name }),
      );
      credentialsOk = !problem;
      own.push(
        problem
          ? {
              type: "CredentialsReady",
              status: "False",
              reason: reason ?? "InvalidSecret",
              message: `Secret ${namespace}/${byo.name} ${problem}`,
            }
          : {
              type: "CredentialsReady",
              status: "True",
              reason: "BringYourOwn",
              message: `Credentials come from Secret ${byo.name}`,
            },
      );
      if (credentialsOk) fields.credentialsSecret = byo.name;
    } else {
      const existing = await currentObject<V1Secret & KubeObject>(ctx, SECRET, {
        namespace,
        name: generatedName,
      });
      const random = deps.randomToken ?? ((n: number) => randomBytes(n).toString("base64url"));
      const decision = desiredCredentialsSecret(sub, api, portal, existing, random, ctx.now());
      const wrote = await ensure(ctx, SECRET, sub, decision.secret as KubeObject, { event: false });
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

  // The gateway's verdict; until it has one (it has not synced since this operator started), the last one
  // written stays.
  const key = { namespace, name: sub.metadata.name ?? "" };
  const verdict = deps.programmed.get(key) ?? sub.status?.conditions?.find((c) => c.type === "Programmed");
  if (verdict)
    own.push({
      type: "Programmed",
      status: verdict.status,
      reason: verdict.reason,
      message: verdict.message,
    });
  const all = merged(sub.status?.conditions, own) as Condition[];
  const programmed = verdict?.status === "True";
  fields.phase = phaseOf(!refsProblem, approval, credentialsOk, programmed);
  const ready = readyFrom(
    all,
    ["ResolvedRefs", "Approved", "CredentialsReady", "Programmed"],
    "The credentials work at the gateway",
  );
  const age = ctx.now().getTime() - Date.parse(sub.metadata.creationTimestamp ?? "");
  const awaitingGateway = credentialsOk && !verdict && !sub.status?.phase && age < GATEWAY_GRACE_MS;
  if (awaitingGateway) {
    recheckAt = new Date(
      Math.min(recheckAt?.getTime() ?? Infinity, ctx.now().getTime() + GATEWAY_GRACE_MS - age),
    );
  } else {
    await applyOwnStatus(ctx, sub, [...own, ready], fields);
  }

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
  deps: SubscriptionControllerDeps,
): Promise<Result> {
  const namespace = sub.metadata.namespace ?? "";
  deps.programmed.delete({ namespace, name: sub.metadata.name ?? "" });
  const { db } = readModelOf(ctx.cache, deps.databases, namespace);
  if (db) await deleteRow(db, "subscriptions", namespace, sub.metadata.name ?? "");
  return {};
}

function referencing(field: "clientRef" | "apiRef" | "planRef") {
  return (obj: KubeObject, cache: Cache): ObjectKey[] =>
    cache
      .list<Cached<Subscription>>(SUBSCRIPTION, obj.metadata.namespace)
      .filter((s) => s.spec[field].name === obj.metadata.name)
      .map((s) => ({ namespace: s.metadata.namespace ?? "", name: s.metadata.name ?? "" }));
}

/**
 * The credentials Secrets each Subscription is found by: the label value of its grant (the Secret it owns or
 * was granted carries it) and the name its spec.credentials.secretRef gives.
 */
const CREDENTIALS_INDEX: IndexSpec = {
  gvk: SUBSCRIPTION,
  name: "credentials",
  values: (obj) => {
    const sub = obj as Cached<Subscription>;
    const ref = sub.spec.credentials?.secretRef?.name;
    return [`grant:${labelValue(sub.metadata.name ?? "")}`, ...(ref ? [`ref:${ref}`] : [])];
  },
};

/**
 * The Subscriptions a credentials Secret concerns: the one it is granted to (by its label), and those whose
 * spec.credentials.secretRef names it, granted or not (one that names another's Secret must learn that the
 * Secret is not its own).
 */
function concerned(secret: KubeObject, cache: Cache): ObjectKey[] {
  const namespace = secret.metadata.namespace ?? "";
  const label = secret.metadata.labels?.[SUBSCRIPTION_LABEL];
  const found = (value: string) =>
    cache.byIndex<Cached<Subscription>>(SUBSCRIPTION, CREDENTIALS_INDEX.name, namespace, value);
  const names = new Set(
    [...(label === undefined ? [] : found(`grant:${label}`)), ...found(`ref:${secret.metadata.name}`)].map(
      (s) => s.metadata.name ?? "",
    ),
  );
  return [...names].map((name) => ({ namespace, name }));
}

/** The Subscription controller's registration. */
export function subscriptionController(deps: SubscriptionControllerDeps): ControllerOptions {
  return {
    name: "subscription",
    for: SUBSCRIPTION,
    owns: [SECRET],
    indexes: [CREDENTIALS_INDEX],
    // Each reconcile mostly waits on the apiserver and Postgres.
    concurrency: 16,
    watches: [
      { gvk: APICLIENT, map: referencing("clientRef"), relevant: specChanged },
      { gvk: API, map: referencing("apiRef"), relevant: specChanged },
      { gvk: PLAN, map: referencing("planRef"), relevant: specChanged },
      {
        gvk: APIPORTAL,
        map: allInNamespace(SUBSCRIPTION),
        relevant: specOrConditionChanged("DatabaseReady"),
      },
      // Bring-your-own credentials Secrets are not owned (and the cache holds only granted ones).
      { gvk: SECRET, map: concerned },
    ],
    sources: [deps.programmed.changes],
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
