/**
 * Whether a Subscription may have credentials: a plan without approval approves at once; otherwise an
 * approver decides through spec.approval, and a rejection is final. Pure.
 */
import { currentDecision, type Plan, type Subscription } from "../../api/v1alpha1/index.ts";

/** The Approved condition's reasons. */
export const ApprovalReason = {
  AutoApproved: "AutoApproved",
  Approved: "Approved",
  PendingApproval: "PendingApproval",
  Rejected: "Rejected",
} as const;

/** Where a subscription stands on approval. */
export interface ApprovalState {
  approved: boolean;
  rejected: boolean;
  reason: (typeof ApprovalReason)[keyof typeof ApprovalReason];
  message: string;
}

/** Decides the Approved condition from the subscription's decision and the plan. */
export function approvalState(sub: Subscription, plan: Plan): ApprovalState {
  const approval = sub.spec.approval;
  const decision = currentDecision(sub.spec);
  if (decision === "Rejected") {
    return {
      approved: false,
      rejected: true,
      reason: ApprovalReason.Rejected,
      message: `Rejected by ${approval?.decidedBy ?? "an approver"}: ${approval?.reason ?? "no reason given"}`,
    };
  }
  if (!plan.spec.requiresApproval) {
    return {
      approved: true,
      rejected: false,
      reason: ApprovalReason.AutoApproved,
      message: `Plan ${plan.metadata.name} needs no approval`,
    };
  }
  if (decision === "Approved") {
    return {
      approved: true,
      rejected: false,
      reason: ApprovalReason.Approved,
      message: `Approved by ${approval?.decidedBy ?? "an approver"}`,
    };
  }
  const earlier =
    approval?.decision === "Approved"
      ? ` (it was approved for plan ${approval.plan ?? "(none named)"}; a plan change needs a new decision)`
      : "";
  return {
    approved: false,
    rejected: false,
    reason: ApprovalReason.PendingApproval,
    message: `Plan ${plan.metadata.name} requires approval${earlier}; an approver sets spec.approval to Approved or Rejected for plan ${plan.metadata.name}`,
  };
}
