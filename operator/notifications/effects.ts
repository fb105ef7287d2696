/**
 * Effects: the notifications a state implies, each with a deterministic key, so planning the same state
 * twice (a restart, a replay, a resync, a second replica) yields the same keys and the ledger keeps one row
 * per key. This module decides which effects an outbox event implies; subscription-transitions.ts does the
 * same for Subscriptions. Pure.
 */
import type { ChatTarget } from "../../api/v1alpha1/index.ts";
import type { OutboxEvent } from "../../db/outbox.ts";
import type { NotificationChannel } from "../../db/schema.ts";
import type { MailKind } from "./mail-templates.ts";

/** What a chat target can hear about (ApiPortal spec.chat.targets[].events). */
export type ChatEvent = ChatTarget["events"][number];

/** The kind of incoming webhook of a chat target. */
export type ChatType = ChatTarget["type"];

/** The facts a notification is rendered from: plain strings, never a secret or a one-time token. */
export type Facts = Record<string, string>;

/** A notification to record in the ledger and deliver. */
export interface PlannedEffect {
  /** Deterministic: the same state always yields the same key. */
  key: string;
  /** A mail kind (`verify-email`, …) or a chat event (`SignedUp`, …). */
  kind: MailKind | ChatEvent;
  channel: NotificationChannel;
  /** The recipients' addresses (comma-separated) or the chat target's name. */
  target: string;
  /** Mail recipients; empty for chat. */
  to: string[];
  facts: Facts;
  /** The outbox event it came from; its payload holds the one-time token a verify or reset mail needs. */
  outboxId?: string;
}

/** What planning needs to know about a portal: whether it mails, and its chat targets' filters. */
export interface PlanningConfig {
  mail: boolean;
  chat: ReadonlyArray<{ name: string; type: ChatType; events: readonly ChatEvent[] }>;
}

/** The ledger channel of a chat target type. */
export function chatChannel(type: ChatType): NotificationChannel {
  return type === "Slack" ? "slack" : type === "Teams" ? "teams" : "rocketchat";
}

/** The key of a mail caused by an outbox event. */
export function outboxMailKey(kind: MailKind, outboxId: string): string {
  return `mail:${kind}:${outboxId}`;
}

/** The key of a chat message caused by an outbox event. */
export function outboxChatKey(target: string, outboxId: string): string {
  return `chat:${target}:${outboxId}`;
}

/** The mails that carry a one-time token, and the outbox payload field that holds it. */
export const TOKEN_FIELD: Readonly<Partial<Record<MailKind, "verifyToken" | "resetToken">>> = {
  "verify-email": "verifyToken",
  "password-reset": "resetToken",
};

/** Chat messages for the targets whose filter includes `event`. */
export function chatEffects(
  config: PlanningConfig,
  event: ChatEvent,
  keyOf: (target: string) => string,
  facts: Facts,
  outboxId?: string,
): PlannedEffect[] {
  return config.chat
    .filter((t) => t.events.includes(event))
    .map((t) => ({
      key: keyOf(t.name),
      kind: event,
      channel: chatChannel(t.type),
      target: t.name,
      to: [],
      facts,
      ...(outboxId !== undefined ? { outboxId } : {}),
    }));
}

function factsOf(event: OutboxEvent): Facts {
  const facts: Facts = { userName: event.displayName, email: event.email };
  if ("application" in event) facts.applicationName = event.application;
  if ("applicationDisplayName" in event) facts.application = event.applicationDisplayName;
  else if ("application" in event) facts.application = event.application;
  if ("subscription" in event) facts.subscription = event.subscription;
  if ("api" in event) facts.api = event.api;
  if ("plan" in event) facts.plan = event.plan;
  if ("namespace" in event) facts.namespace = event.namespace;
  return facts;
}

/**
 * The effects of one outbox event. Verify and reset mails are planned only when the event still carries
 * its token (without mail configured, portal-api sends none). CredentialsRotated implies nothing here: the
 * mail about it follows the Subscription's status (subscription-transitions.ts), so a rotation through
 * GitOps is mailed too and one through the portal is not mailed twice.
 */
export function effectsOfOutboxEvent(
  id: string,
  event: OutboxEvent,
  config: PlanningConfig,
): PlannedEffect[] {
  const facts = factsOf(event);
  const mail = (kind: MailKind): PlannedEffect[] =>
    config.mail
      ? [
          {
            key: outboxMailKey(kind, id),
            kind,
            channel: "email",
            target: event.email,
            to: [event.email],
            facts,
            outboxId: id,
          },
        ]
      : [];
  const chat = (chatEvent: ChatEvent) =>
    chatEffects(config, chatEvent, (t) => outboxChatKey(t, id), facts, id);
  switch (event.type) {
    case "UserSignedUp":
      return [...(event.verifyToken ? mail("verify-email") : []), ...chat("SignedUp")];
    case "VerificationRequested":
      return event.verifyToken ? mail("verify-email") : [];
    case "UserVerified":
      return [...mail("welcome"), ...chat("UserVerified")];
    case "PasswordResetRequested":
      return [...(event.resetToken ? mail("password-reset") : []), ...chat("PasswordResetRequested")];
    case "ApplicationAdded":
    case "ApplicationDeleted":
    case "SubscriptionAdded":
    case "SubscriptionDeleted":
      return chat(event.type);
    case "CredentialsRotated":
      return [];
    default:
      return [];
  }
}

/** Whether planning an event needs its one-time token to survive until a mail is delivered. */
export function keepsToken(effects: readonly PlannedEffect[]): boolean {
  return effects.some((e) => e.channel === "email" && TOKEN_FIELD[e.kind as MailKind] !== undefined);
}
