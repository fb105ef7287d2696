/**
 * The notifications a Subscription's state implies. Level-triggered: the state is read, not the event that
 * led to it, and each transition gets a key from the status itself (the Approved condition's
 * lastTransitionTime, the rotation request's time), so a resync or a restart finds the same keys. Pure.
 *
 * The Subscription controller (operator/controllers/subscription.controller.ts) writes the condition
 * `Approved` with reason PendingApproval, Approved, AutoApproved or Rejected, the phase, and
 * `credentialsIssuedAt`, which becomes max(now, requestedAt) when spec.credentials.rotation asks for new
 * credentials.
 */
import { currentDecision, type Subscription } from "../../api/v1alpha1/index.ts";
import {
  type ChatEvent,
  chatEffects,
  type Facts,
  type PlannedEffect,
  type PlanningConfig,
} from "./effects.ts";
import type { MailKind } from "./mail-templates.ts";

/** A notification-worthy state of a subscription. */
export type SubscriptionTransition =
  | { kind: "approval-required"; round: string; at?: Date }
  | { kind: "subscription-approved"; round: string; at?: Date }
  | { kind: "subscription-rejected"; at?: Date }
  | { kind: "credentials-rotated"; requestedAt: string; at?: Date };

function parse(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/**
 * What the subscription's status says happened. An approval round is named by the Approved condition's
 * lastTransitionTime (a plan change that needs a new approval starts a new round); without the condition,
 * by the generation.
 */
export function subscriptionTransitions(sub: Subscription): SubscriptionTransition[] {
  const approved = sub.status?.conditions?.find((c) => c.type === "Approved");
  const phase = sub.status?.phase;
  const round = approved?.lastTransitionTime ?? `generation-${sub.metadata.generation ?? 0}`;
  const at = parse(approved?.lastTransitionTime);
  const when = at ? { at } : {};
  const out: SubscriptionTransition[] = [];
  if (phase === "Rejected" || (approved?.status === "False" && approved.reason === "Rejected")) {
    out.push({ kind: "subscription-rejected", ...when });
    return out;
  }
  if (
    phase === "PendingApproval" ||
    (approved?.status === "False" && approved.reason === "PendingApproval")
  ) {
    out.push({ kind: "approval-required", round, ...when });
  }
  // Only a decision by an approver is news; a plan without approval approves at once (AutoApproved).
  const decidedByApprover =
    (approved?.status === "True" && approved.reason === "Approved") ||
    (approved === undefined && phase === "Active" && currentDecision(sub.spec) === "Approved");
  if (decidedByApprover) out.push({ kind: "subscription-approved", round, ...when });

  const requestedAt = sub.spec.credentials?.rotation?.requestedAt;
  const issuedAt = parse(sub.status?.credentialsIssuedAt);
  const requested = parse(requestedAt);
  // A rotation: credentials issued for a request made after the subscription was approved (or created), so
  // the first issue of credentials is never mistaken for one.
  const since = approved?.status === "True" ? at : parse(sub.metadata.creationTimestamp);
  if (
    requestedAt !== undefined &&
    requested &&
    issuedAt &&
    issuedAt.getTime() >= requested.getTime() &&
    (since === undefined || requested.getTime() > since.getTime())
  ) {
    out.push({ kind: "credentials-rotated", requestedAt, at: issuedAt });
  }
  return out;
}

/** Whether a transition is older than the horizon: it is not notified (e.g. when a portal first gets mail). */
export function isStale(t: SubscriptionTransition, now: Date, horizonMs: number): boolean {
  return t.at !== undefined && now.getTime() - t.at.getTime() > horizonMs;
}

/** The key of the mail a transition implies. */
export function transitionMailKey(uid: string, t: SubscriptionTransition): string {
  switch (t.kind) {
    case "approval-required":
      return `mail:approval-required:${uid}:${t.round}`;
    case "subscription-approved":
      return `mail:subscription-approved:${uid}:${t.round}`;
    case "subscription-rejected":
      return `mail:subscription-rejected:${uid}`;
    case "credentials-rotated":
      return `mail:credentials-rotated:${uid}:${t.requestedAt}`;
  }
}

/** The chat event a transition implies, if any. */
export function transitionChatEvent(t: SubscriptionTransition): ChatEvent | undefined {
  return t.kind === "approval-required" ? "ApprovalRequired" : undefined;
}

/** Every key a transition implies under a configuration, to tell whether it was planned already. */
export function transitionKeys(uid: string, t: SubscriptionTransition, config: PlanningConfig): string[] {
  const event = transitionChatEvent(t);
  const chat =
    event === undefined
      ? []
      : config.chat.filter((c) => c.events.includes(event)).map((c) => chatKey(uid, t, c.name));
  return [...(config.mail ? [transitionMailKey(uid, t)] : []), ...chat];
}

function chatKey(uid: string, t: SubscriptionTransition, target: string): string {
  return `chat:${target}:${transitionMailKey(uid, t).slice("mail:".length)}`;
}

/**
 * The effects of a transition: a mail to `to` (the owner, or the approvers for an approval request; none
 * when empty) and chat messages for the targets that hear about it.
 */
export function effectsOfTransition(
  uid: string,
  t: SubscriptionTransition,
  facts: Facts,
  to: readonly string[],
  config: PlanningConfig,
): PlannedEffect[] {
  const kind: MailKind = t.kind;
  const mail: PlannedEffect[] =
    config.mail && to.length > 0
      ? [
          {
            key: transitionMailKey(uid, t),
            kind,
            channel: "email",
            target: to.join(", "),
            to: [...to],
            facts,
          },
        ]
      : [];
  const event = transitionChatEvent(t);
  const chat =
    event === undefined ? [] : chatEffects(config, event, (target) => chatKey(uid, t, target), facts);
  return [...mail, ...chat];
}
