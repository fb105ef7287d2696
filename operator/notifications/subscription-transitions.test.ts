import { describe, expect, it } from "vitest";
import type { Condition, Subscription } from "../../api/v1alpha1/index.ts";
import type { PlanningConfig } from "./effects.ts";
import {
  effectsOfTransition,
  isStale,
  subscriptionTransitions,
  transitionKeys,
} from "./subscription-transitions.ts";

const T0 = "2026-01-01T10:00:00Z";
const T1 = "2026-01-02T10:00:00Z";

function sub(status: Subscription["status"], spec: Partial<Subscription["spec"]> = {}): Subscription {
  return {
    apiVersion: "wicked.dev/v1alpha1",
    kind: "Subscription",
    metadata: {
      name: "s",
      namespace: "ns",
      uid: "uid-1",
      generation: 1,
      creationTimestamp: "2026-01-01T09:00:00Z",
    },
    spec: { clientRef: { name: "app" }, apiRef: { name: "orders" }, planRef: { name: "gold" }, ...spec },
    ...(status ? { status } : {}),
  };
}

const approved = (status: Condition["status"], reason: string, at = T0): Condition => ({
  type: "Approved",
  status,
  reason,
  message: "",
  lastTransitionTime: at,
});

describe("subscriptionTransitions", () => {
  it("asks for an approval while pending, named by the condition's transition time", () => {
    expect(
      subscriptionTransitions(
        sub({ phase: "PendingApproval", conditions: [approved("False", "PendingApproval")] }),
      ),
    ).toEqual([{ kind: "approval-required", round: T0, at: new Date(T0) }]);
  });

  it("tells the owner about an approver's approval but not about a plan that approves by itself", () => {
    const decided = sub(
      { phase: "Active", conditions: [approved("True", "Approved", T1)] },
      { approval: { decision: "Approved", decidedBy: "boss", plan: "gold" } },
    );
    expect(subscriptionTransitions(decided)).toEqual([
      { kind: "subscription-approved", round: T1, at: new Date(T1) },
    ]);
    expect(
      subscriptionTransitions(sub({ phase: "Active", conditions: [approved("True", "AutoApproved")] })),
    ).toEqual([]);
  });

  it("tells the owner about a rejection", () => {
    expect(
      subscriptionTransitions(sub({ phase: "Rejected", conditions: [approved("False", "Rejected", T1)] })),
    ).toEqual([{ kind: "subscription-rejected", at: new Date(T1) }]);
  });

  it("sees a rotation only when credentials were issued for a request made after the approval", () => {
    const rotated = (requestedAt: string, issuedAt: string) =>
      sub(
        {
          phase: "Active",
          credentialsIssuedAt: issuedAt,
          conditions: [approved("True", "AutoApproved", T0)],
        },
        { credentials: { rotation: { requestedAt } } },
      );
    expect(subscriptionTransitions(rotated(T1, "2026-01-02T10:00:01.500Z"))).toEqual([
      { kind: "credentials-rotated", requestedAt: T1, at: new Date("2026-01-02T10:00:01.500Z") },
    ]);
    // Requested, not yet carried out.
    expect(subscriptionTransitions(rotated(T1, T0))).toEqual([]);
    // A request older than the approval belongs to the first issue of credentials.
    expect(subscriptionTransitions(rotated("2025-12-31T00:00:00Z", T1))).toEqual([]);
  });

  it("finds nothing in a subscription without status", () => {
    expect(subscriptionTransitions(sub(undefined))).toEqual([]);
  });
});

describe("isStale", () => {
  it("is true beyond the horizon", () => {
    const t = { kind: "subscription-rejected" as const, at: new Date(T0) };
    expect(isStale(t, new Date(T1), 60 * 60 * 1000)).toBe(true);
    expect(isStale(t, new Date(T1), 48 * 60 * 60 * 1000)).toBe(false);
  });
});

describe("effects of a transition", () => {
  const config: PlanningConfig = {
    mail: true,
    chat: [
      { name: "team", type: "Slack", events: ["ApprovalRequired"] },
      { name: "other", type: "Teams", events: ["SignedUp"] },
    ],
  };
  const pending = { kind: "approval-required" as const, round: T0 };

  it("mails every approver in one message and posts to the targets that hear about approvals", () => {
    const effects = effectsOfTransition("uid-1", pending, { api: "Orders" }, ["a@x.org", "b@x.org"], config);
    expect(effects.map((e) => [e.key, e.channel, e.target])).toEqual([
      [`mail:approval-required:uid-1:${T0}`, "email", "a@x.org, b@x.org"],
      [`chat:team:approval-required:uid-1:${T0}`, "slack", "team"],
    ]);
    expect(transitionKeys("uid-1", pending, config)).toEqual(effects.map((e) => e.key));
  });

  it("starts a new key with a new approval round and keeps one key per rejection", () => {
    expect(transitionKeys("u", pending, config)).not.toEqual(
      transitionKeys("u", { ...pending, round: T1 }, config),
    );
    expect(transitionKeys("u", { kind: "subscription-rejected" }, config)).toEqual([
      "mail:subscription-rejected:u",
    ]);
  });

  it("mails nobody without recipients", () => {
    expect(
      effectsOfTransition("u", { kind: "subscription-rejected" }, {}, [], { mail: true, chat: [] }),
    ).toEqual([]);
  });
});
