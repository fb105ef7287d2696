import { describe, expect, it } from "vitest";
import type { Plan, Subscription } from "../../api/v1alpha1/index.ts";
import { approvalState } from "./approval.ts";

const plan = (name: string, requiresApproval: boolean): Plan =>
  ({
    apiVersion: "wicked.dev/v1alpha1",
    kind: "Plan",
    metadata: { name },
    spec: { displayName: name, requiresApproval },
  }) as Plan;
const sub = (planName: string, approval?: Subscription["spec"]["approval"]): Subscription =>
  ({
    apiVersion: "wicked.dev/v1alpha1",
    kind: "Subscription",
    metadata: { name: "s" },
    spec: { clientRef: { name: "app" }, apiRef: { name: "orders" }, planRef: { name: planName }, approval },
  }) as Subscription;

describe("approvalState", () => {
  it("counts an approval for the subscription's plan", () => {
    const state = approvalState(
      sub("partner", { decision: "Approved", decidedBy: "amy", plan: "partner" }),
      plan("partner", true),
    );
    expect(state).toMatchObject({ approved: true, reason: "Approved" });
  });

  it("security #4: needs a new decision when the subscription moves to another plan that requires approval", () => {
    const approvedForPartner = { decision: "Approved" as const, decidedBy: "amy", plan: "partner" };
    expect(approvalState(sub("gold", approvedForPartner), plan("gold", true))).toMatchObject({
      approved: false,
      reason: "PendingApproval",
      message: expect.stringContaining("was approved for plan partner"),
    });
    // An approval that names no plan (from before approvals named theirs) counts for none.
    expect(
      approvalState(sub("gold", { decision: "Approved", decidedBy: "amy" }), plan("gold", true)),
    ).toMatchObject({
      approved: false,
      reason: "PendingApproval",
    });
    // A plan without approval needs no decision at all.
    expect(approvalState(sub("basic", approvedForPartner), plan("basic", false))).toMatchObject({
      approved: true,
    });
  });
});
