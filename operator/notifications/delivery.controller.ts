/**
 * The notifications controller, keyed by ApiPortal: each reconcile plans the portal's new outbox events
 * into the ledger, delivers what is due, reports the outcome (condition NotificationsHealthy, Events,
 * metrics) and asks to come back after the poll interval or when the next retry is due. A controller
 * rather than a free-running loop, so it runs only on the leader (the manager starts and stops
 * controllers with the Lease) and stops at once when leadership is lost (ctx.signal). It has its own work
 * queue and workers: a slow SMTP server never holds up another controller's reconcile.
 */
import type { ApiPortal } from "../../api/v1alpha1/index.ts";
import type { ControllerOptions, ReconcileContext } from "../../controller-runtime/controller.ts";
import type { KubeObject, ObjectKey, Result } from "../../controller-runtime/types.ts";
import type { PortalDatabases } from "../apiportal/database.ts";
import { APIPORTAL, CONFIGMAP, SECRET } from "../gvks.ts";
import { applyOwnStatus } from "../status.ts";
import { type DeliveryContext, deliver } from "./delivery.ts";
import { healthCondition } from "./health.ts";
import { claimDue, type LedgerSummary, ledgerSummary, unclaim } from "./ledger.ts";
import type { NotificationMetrics } from "./metrics.ts";
import type { NotificationTuning } from "./options.ts";
import { planOutbox } from "./outbox-planner.ts";
import { EventThrottle, PortalReferences } from "./references.ts";
import type { ChatSender, DeliveryError, MailSender } from "./senders.ts";
import {
  type NotificationSettings,
  notifies,
  planningConfig,
  readSettings,
  referencedObjects,
} from "./settings.ts";

/** The field manager of the NotificationsHealthy condition: it owns that list item and nothing else. */
export const NOTIFICATIONS_FIELD_MANAGER = "wicked-notifications";

/** What the notification controllers need. */
export interface NotificationDeps {
  /** The operator's database pools, shared with the other controllers. */
  databases: PortalDatabases;
  /** This replica's name: the holder of its 'sending' claims. */
  identity: string;
  metrics: NotificationMetrics;
  mailer: MailSender;
  chat: ChatSender;
  tuning: NotificationTuning;
}

type Cached<T> = T & KubeObject;

/** Outbox events planned per transaction. */
const OUTBOX_BATCH = 100;

async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const run = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
}

/** What one pass over the ledger did. */
interface PassResult {
  sent: number;
  /** The pass stopped at its budget with more effects due. */
  more: boolean;
  failures: Map<string, DeliveryError>;
  abandoned: Array<{ key: string; error: DeliveryError }>;
}

async function deliverDue(
  ctx: ReconcileContext,
  delivery: DeliveryContext,
  portalKey: string,
  tuning: NotificationTuning,
): Promise<PassResult> {
  const result: PassResult = { sent: 0, more: false, failures: new Map(), abandoned: [] };
  let handled = 0;
  while (!ctx.signal.aborted) {
    if (handled >= tuning.maxPerPass) {
      result.more = true;
      break;
    }
    const claimed = await claimDue(
      delivery.db,
      portalKey,
      delivery.holder,
      tuning.claimLeaseMs,
      tuning.batchSize,
    );
    if (claimed.length === 0) break;
    handled += claimed.length;
    await mapLimit(claimed, tuning.sendConcurrency, async (effect) => {
      if (ctx.signal.aborted) {
        // This replica stopped leading: the new leader takes the effect, no attempt was made.
        await unclaim(delivery.db, effect.key, delivery.holder);
        return;
      }
      if (effect.interrupted) {
        ctx.log.warn(
          { effect: effect.key, channel: effect.channel },
          "Resumed a notification whose previous attempt was interrupted; it may arrive twice, with the same Message-ID",
        );
      }
      const outcome = await deliver(delivery, effect, result.failures);
      if (outcome.status === "sent") {
        result.sent++;
        ctx.log.info({ effect: effect.key, channel: effect.channel, kind: effect.kind }, "Sent notification");
      } else if (outcome.status === "abandoned") {
        result.abandoned.push({ key: effect.key, error: outcome.error });
      }
    });
    if (claimed.length < tuning.batchSize) break;
  }
  return result;
}

async function report(
  ctx: ReconcileContext,
  portal: Cached<ApiPortal>,
  settings: NotificationSettings,
  pass: PassResult | undefined,
  throttle: EventThrottle,
): Promise<void> {
  const portalId = portal.metadata.uid ?? "";
  const now = Date.now();
  for (const [channel, error] of pass?.failures ?? []) {
    const note = `Delivery by ${channel} failed: ${error.message}. The notifications stay pending and are retried with backoff`;
    if (!throttle.admit(`${portalId}/${note}`, now)) continue;
    await ctx.recorder.event(portal, "Warning", "NotificationFailed", note, "Deliver");
  }
  for (const { key, error } of pass?.abandoned ?? []) {
    await ctx.recorder.event(
      portal,
      "Warning",
      "NotificationAbandoned",
      `Gave up on ${key}: ${error.message}`,
      "Deliver",
    );
  }
  const unknown = settings.mail?.templates.unknownKeys ?? [];
  if (unknown.length > 0) {
    const note = `The mail template ConfigMap has keys that name no template: ${unknown.join(", ")}; keys look like verify-email.subject`;
    if (throttle.admit(`${portalId}/${note}`, now)) {
      await ctx.recorder.event(portal, "Warning", "UnknownTemplateKeys", note, "Render");
    }
  }
}

async function setHealth(
  ctx: ReconcileContext,
  portal: Cached<ApiPortal>,
  condition: ReturnType<typeof healthCondition>,
): Promise<void> {
  const before = portal.status?.conditions?.find((c) => c.type === condition.type);
  await applyOwnStatus(ctx, portal, [condition], {}, NOTIFICATIONS_FIELD_MANAGER);
  if (before && before.status !== condition.status) {
    ctx.log.info(
      { status: condition.status, reason: condition.reason },
      "Updated condition NotificationsHealthy",
    );
    if (condition.status === "True" && before.status === "False") {
      await ctx.recorder.event(portal, "Normal", "NotificationsRecovered", condition.message, "Deliver");
    }
  }
}

async function reconcilePortal(
  key: ObjectKey,
  ctx: ReconcileContext,
  deps: NotificationDeps,
  references: PortalReferences,
  throttle: EventThrottle,
): Promise<Result> {
  const portalKey = `${key.namespace}/${key.name}`;
  const portal = ctx.cache.get<Cached<ApiPortal>>(APIPORTAL, key);
  if (!portal || portal.metadata.deletionTimestamp) {
    references.set(key, []);
    deps.metrics.pending.remove({ portal: portalKey });
    return {};
  }
  const refs = referencedObjects(portal);
  references.set(key, [
    ...refs.secrets.map((s) => `Secret:${s}`),
    ...refs.configMaps.map((c) => `ConfigMap:${c}`),
  ]);
  const settings = readSettings(portal, ctx.cache);
  const { tuning } = deps;
  const idle = notifies(settings) ? tuning.pollIntervalMs : tuning.pollIntervalMs * 10;
  if (settings.databaseUrl === undefined) {
    await setHealth(
      ctx,
      portal,
      healthCondition(settings, { databaseProblem: settings.databaseProblem ?? "" }),
    );
    return { requeueAfterMs: idle };
  }
  let pass: PassResult | undefined;
  let summary: LedgerSummary | undefined;
  let moreEvents = false;
  let failure: unknown;
  try {
    const db = deps.databases.pool(settings.databaseUrl);
    for (let round = 0; round < 10 && !ctx.signal.aborted; round++) {
      const planned = await planOutbox(
        db,
        portalKey,
        planningConfig(settings),
        tuning.horizonMs,
        OUTBOX_BATCH,
      );
      if (planned.planned > 0 || planned.skippedStale > 0)
        ctx.log.info(planned, "Planned notifications from the outbox");
      moreEvents = planned.processed === OUTBOX_BATCH;
      if (!moreEvents) break;
    }
    const delivery: DeliveryContext = {
      db,
      settings,
      mailer: deps.mailer,
      chat: deps.chat,
      metrics: deps.metrics,
      retry: tuning.retry,
      holder: deps.identity,
    };
    pass = await deliverDue(ctx, delivery, portalKey, tuning);
    summary = await ledgerSummary(db, portalKey);
  } catch (err) {
    failure = err;
  }
  await report(ctx, portal, settings, pass, throttle);
  if (failure !== undefined || summary === undefined) {
    // The database failed (unreachable, not migrated yet): say so on the portal, then retry with backoff.
    const databaseProblem = `${(failure as Error)?.message ?? String(failure)}; the ApiPortal's DatabaseReady condition tells whether the database is reachable and migrated`;
    await setHealth(ctx, portal, healthCondition(settings, { databaseProblem }));
    throw failure;
  }
  deps.metrics.pending.set({ portal: portalKey }, summary.pending);
  await setHealth(ctx, portal, healthCondition(settings, { summary }));
  if (moreEvents || pass?.more) return { requeueAfterMs: 1 };
  const untilDue = summary.nextDueAt ? summary.nextDueAt.getTime() - Date.now() : idle;
  return { requeueAfterMs: Math.max(50, Math.min(idle, untilDue)) };
}

/** The delivery controller's registration with the manager. */
export function notificationDeliveryController(deps: NotificationDeps): ControllerOptions {
  const references = new PortalReferences();
  const throttle = new EventThrottle();
  return {
    name: "notifications",
    for: APIPORTAL,
    concurrency: 2,
    // A delivery pass sends up to a batch of mails and chat posts, each bounded by its own timeout; a slow
    // SMTP server may take longer than the runtime's default limit without hanging.
    reconcileTimeoutMs: 180_000,
    watches: [
      { gvk: SECRET, map: (obj) => references.portalsReading(obj, "Secret") },
      { gvk: CONFIGMAP, map: (obj) => references.portalsReading(obj, "ConfigMap") },
    ],
    reconcile: (key, ctx) => reconcilePortal(key, ctx, deps, references, throttle),
  };
}
