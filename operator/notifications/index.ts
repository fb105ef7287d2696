/**
 * The mailer and the chatbot: side-effect controllers that turn state — the outbox of user events and
 * Subscription status transitions — into mails and chat messages, each recorded in the notification
 * ledger under a deterministic key so nothing is sent twice and nothing is lost (README.md).
 *
 * Wiring (operator/main.ts):
 *
 *   const notifications = defaultNotificationDeps({ databases, identity, tuning: notificationTuningFromEnv() });
 *   const manager = createManager({ controllers: [...others, ...notificationControllers(notifications)], … });
 *   notifications.metrics.register(manager.registry);
 *   // on stop, after manager.stop(): await notifications.mailer.close();
 */

import type { ControllerOptions } from "../../controller-runtime/controller.ts";
import type { PortalDatabases } from "../apiportal/database.ts";
import { type NotificationDeps, notificationDeliveryController } from "./delivery.controller.ts";
import { NotificationMetrics } from "./metrics.ts";
import { DEFAULT_TUNING, type NotificationTuning, sendTimeouts } from "./options.ts";
import { SmtpMailer, WebhookPoster } from "./senders.ts";
import { subscriptionNotificationsController } from "./subscription-notifications.controller.ts";

export { NOTIFICATIONS_FIELD_MANAGER, type NotificationDeps } from "./delivery.controller.ts";
export { NOTIFICATIONS_HEALTHY, NotificationsReason } from "./health.ts";
export { NotificationMetrics } from "./metrics.ts";
export { DEFAULT_TUNING, type NotificationTuning, notificationTuningFromEnv } from "./options.ts";
export type { ChatSender, MailSender } from "./senders.ts";

/** The notification controllers: delivery (per ApiPortal) and planning of Subscription transitions. */
export function notificationControllers(deps: NotificationDeps): ControllerOptions[] {
  return [notificationDeliveryController(deps), subscriptionNotificationsController(deps)];
}

/** Dependencies with the real SMTP and webhook senders and fresh metrics. */
export function defaultNotificationDeps(opts: {
  databases: PortalDatabases;
  identity: string;
  tuning?: NotificationTuning;
}): NotificationDeps {
  const tuning = opts.tuning ?? DEFAULT_TUNING;
  const timeouts = sendTimeouts(tuning.claimLeaseMs);
  return {
    databases: opts.databases,
    identity: opts.identity,
    tuning,
    metrics: new NotificationMetrics(),
    mailer: new SmtpMailer(timeouts),
    chat: new WebhookPoster(timeouts.webhookTimeoutMs),
  };
}
