/**
 * Plans the notifications of Subscription status transitions (approval required, approved, rejected,
 * credentials rotated) into the ledger; the notifications controller delivers them. Level-triggered: each
 * reconcile computes the transitions the current state implies and records the keys not recorded yet, so a
 * resync or a restart plans nothing twice. It only writes the ledger: no send happens here.
 */
import type { Api, ApiClient, ApiPortal, Plan, Subscription } from "../../api/v1alpha1/index.ts";
import type { Cache } from "../../controller-runtime/cache.ts";
import type { ControllerOptions, ReconcileContext } from "../../controller-runtime/controller.ts";
import type { KubeObject, ObjectKey, Result } from "../../controller-runtime/types.ts";
import { API, APICLIENT, APIPORTAL, CONFIGMAP, PLAN, SECRET, SUBSCRIPTION } from "../gvks.ts";
import { live, portalOf } from "../world.ts";
import type { NotificationDeps } from "./delivery.controller.ts";
import type { Facts } from "./effects.ts";
import { existingKeys, recordEffects } from "./ledger.ts";
import { approverAddresses, displayNameOf, ownerInReadModel } from "./recipients.ts";
import { type NotificationSettings, notifies, planningConfig, readSettings } from "./settings.ts";
import {
  effectsOfTransition,
  isStale,
  type SubscriptionTransition,
  subscriptionTransitions,
  transitionKeys,
} from "./subscription-transitions.ts";

async function reconcileSubscription(
  key: ObjectKey,
  ctx: ReconcileContext,
  deps: NotificationDeps,
): Promise<Result> {
  const sub = live<Subscription>(ctx.cache, SUBSCRIPTION, key.namespace, key.name);
  if (!sub) return {};
  const portal = portalOf(ctx.cache, key.namespace);
  if (!portal) return {};
  const settings = readSettings(portal as ApiPortal, ctx.cache);
  if (!notifies(settings)) return {};
  const now = ctx.now();
  const transitions = subscriptionTransitions(sub).filter((t) => !isStale(t, now, deps.tuning.horizonMs));
  if (transitions.length === 0) return {};
  if (settings.databaseUrl === undefined) {
    throw new Error(
      `Cannot record the notifications of Subscription ${key.name}: ${settings.databaseProblem}`,
    );
  }
  const db = deps.databases.pool(settings.databaseUrl);
  const uid = sub.metadata.uid ?? "";
  const config = planningConfig(settings);
  const known = await existingKeys(
    db,
    transitions.flatMap((t) => transitionKeys(uid, t, config)),
  );
  const todo = transitions.filter((t) => transitionKeys(uid, t, config).some((k) => !known.has(k)));
  if (todo.length === 0) return {};

  const client = live<ApiClient>(ctx.cache, APICLIENT, key.namespace, sub.spec.clientRef.name);
  const api = live<Api>(ctx.cache, API, key.namespace, sub.spec.apiRef.name);
  const plan = live<Plan>(ctx.cache, PLAN, key.namespace, sub.spec.planRef.name);
  // The ApiClient names the owner; once it is gone, the read model still remembers who it was.
  const owner = client?.spec.owner ?? (await ownerInReadModel(db, uid));
  const ownerName = owner ? ((await displayNameOf(db, owner)) ?? owner) : "";
  const facts: Facts = {
    subscription: key.name,
    applicationName: sub.spec.clientRef.name,
    application: client?.spec.displayName ?? sub.spec.clientRef.name,
    api: api?.spec.displayName ?? sub.spec.apiRef.name,
    plan: plan?.spec.displayName ?? sub.spec.planRef.name,
    userName: ownerName,
    email: owner ?? "",
    requesterName: ownerName,
    requesterEmail: owner ?? "",
    ...(sub.spec.approval?.decidedBy ? { decidedBy: sub.spec.approval.decidedBy } : {}),
    ...(sub.spec.approval?.reason ? { reason: sub.spec.approval.reason } : {}),
    ...(sub.status?.credentialsIssuedAt ? { issuedAt: sub.status.credentialsIssuedAt } : {}),
  };
  let planned = 0;
  for (const t of todo) {
    const to = await recipients(t, owner, db, settings, api);
    if (to === undefined) {
      // Reconciled again when the ApiClient appears (see the watch below).
      await ctx.recorder.event(
        portal,
        "Warning",
        "NoRecipient",
        `The owner of Subscription ${key.name} should hear about ${t.kind}, but its ApiClient ${sub.spec.clientRef.name} does not exist and the read model names no owner, so nobody was told`,
        "Plan",
      );
      continue;
    }
    if (to.length === 0 && settings.mail) {
      await ctx.recorder.event(
        portal,
        "Warning",
        "NoApprovers",
        `Subscription ${key.name} needs an approval, but no user is in group ${settings.approverGroup}${api?.spec.requiredGroup ? ` and group ${api.spec.requiredGroup}` : ""} and spec.mail.adminAddresses is empty; nobody was mailed`,
        "Plan",
      );
    }
    const effects = effectsOfTransition(uid, t, facts, to, config).filter((e) => !known.has(e.key));
    planned += await recordEffects(db, settings.portalKey, effects);
  }
  if (planned > 0) ctx.log.info({ planned }, "Planned notifications for Subscription");
  return {};
}

/** The recipients of a transition's mail; undefined when the owner is needed but unknown. */
async function recipients(
  t: SubscriptionTransition,
  owner: string | undefined,
  db: Parameters<typeof approverAddresses>[0],
  settings: NotificationSettings,
  api: Api | undefined,
): Promise<string[] | undefined> {
  if (!settings.mail) return [];
  if (t.kind === "approval-required") {
    return approverAddresses(
      db,
      settings.approverGroup,
      api?.spec.requiredGroup,
      settings.mail.adminAddresses,
    );
  }
  return owner ? [owner] : undefined;
}

/** The subscription notifications controller's registration with the manager. */
export function subscriptionNotificationsController(deps: NotificationDeps): ControllerOptions {
  // Read for names, recipients and settings; their changes need no reconcile of a subscription, except an
  // ApiClient appearing: its owner is who hears about the subscriptions naming it.
  const none = (): ObjectKey[] => [];
  const subscriptionsOf = (client: KubeObject, cache: Cache): ObjectKey[] =>
    cache
      .list<Subscription & KubeObject>(SUBSCRIPTION, client.metadata.namespace)
      .filter((s) => s.spec.clientRef.name === client.metadata.name)
      .map((s) => ({ namespace: s.metadata.namespace ?? "", name: s.metadata.name ?? "" }));
  return {
    name: "subscription-notifications",
    for: SUBSCRIPTION,
    concurrency: 2,
    watches: [
      { gvk: API, map: none },
      { gvk: PLAN, map: none },
      { gvk: APICLIENT, map: subscriptionsOf },
      { gvk: APIPORTAL, map: none },
      { gvk: SECRET, map: none },
      { gvk: CONFIGMAP, map: none },
    ],
    reconcile: (key, ctx) => reconcileSubscription(key, ctx, deps),
  };
}
