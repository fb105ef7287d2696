/**
 * The ApiPortal condition `NotificationsHealthy`, computed from the ledger's summary and the settings.
 * Pure; the delivery controller writes it under its own field manager, owning only this list item.
 */
import type { ConditionInput } from "../status.ts";
import type { LedgerSummary } from "./ledger.ts";
import type { NotificationSettings } from "./settings.ts";

/** The condition type. */
export const NOTIFICATIONS_HEALTHY = "NotificationsHealthy";

/** Its reasons. */
export const NotificationsReason = {
  Delivered: "Delivered",
  NotConfigured: "NotConfigured",
  DeliveryFailing: "DeliveryFailing",
  ConfigurationInvalid: "ConfigurationInvalid",
  DatabaseUnavailable: "DatabaseUnavailable",
} as const;

/** Every configuration problem of the settings, in words. */
export function settingsProblems(settings: NotificationSettings): string[] {
  return [
    ...(settings.mail?.problem ? [`mail: ${settings.mail.problem}`] : []),
    ...(settings.mail?.templatesProblem ? [`mail templates: ${settings.mail.templatesProblem}`] : []),
    ...settings.chat.filter((c) => c.problem).map((c) => `chat target ${c.name}: ${c.problem}`),
  ];
}

/** The condition for a portal whose ledger could be read (`summary`) or not (`databaseProblem`). */
export function healthCondition(
  settings: NotificationSettings,
  observed: { summary: LedgerSummary } | { databaseProblem: string },
): ConditionInput {
  const type = NOTIFICATIONS_HEALTHY;
  const configured = settings.mail !== undefined || settings.chat.length > 0;
  if ("databaseProblem" in observed) {
    return {
      type,
      status: "False",
      reason: NotificationsReason.DatabaseUnavailable,
      message: `Cannot read the outbox and the notification ledger (${observed.databaseProblem}); notifications wait, nothing is lost`,
    };
  }
  const { summary } = observed;
  if (summary.failing > 0) {
    // No counts in the message, so it changes when what fails changes, not with every retry (the numbers
    // are in wicked_notifications_pending and wicked_notifications_failed_total).
    const failures = summary.failures
      .map((f) => `${f.channel === "email" ? "email" : `chat target ${f.target}`}: ${f.error}`)
      .join("; ");
    return {
      type,
      status: "False",
      reason: NotificationsReason.DeliveryFailing,
      message: `Notifications could not be delivered yet; they stay pending and are retried with backoff. ${failures}`,
    };
  }
  const problems = settingsProblems(settings);
  if (problems.length > 0) {
    return {
      type,
      status: "False",
      reason: NotificationsReason.ConfigurationInvalid,
      message: `${problems.join("; ")}. Notifications wait until this is fixed`,
    };
  }
  if (!configured && summary.pending === 0) {
    return {
      type,
      status: "True",
      reason: NotificationsReason.NotConfigured,
      message: "The portal has no spec.mail and no spec.chat targets; no notifications are sent",
    };
  }
  return {
    type,
    status: "True",
    reason: NotificationsReason.Delivered,
    message:
      summary.pending === 0
        ? "Every notification was delivered"
        : `${summary.pending} notifications are being delivered`,
  };
}
