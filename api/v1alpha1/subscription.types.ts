import type { CommonStatus, Int32, LocalObjectReference, ObjectMeta } from "./common.types.ts";

/**
 * Subscription gives an application access to an API under a plan. Credentials are issued into a Secret
 * owned by the Subscription once it is approved.
 * @plural subscriptions
 * @xValidation {"rule": "size(self.metadata.name) <= 241", "message": "metadata.name must have at most 241 characters: the credentials Secret is named <name>-credentials"}
 * @shortName wsub
 * @printColumn {"name": "Client", "type": "string", "jsonPath": ".spec.clientRef.name"}
 * @printColumn {"name": "API", "type": "string", "jsonPath": ".spec.apiRef.name"}
 * @printColumn {"name": "Plan", "type": "string", "jsonPath": ".spec.planRef.name"}
 * @printColumn {"name": "Phase", "type": "string", "jsonPath": ".status.phase"}
 * @printColumn {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}
 * @printColumn {"name": "Secret", "type": "string", "priority": 1, "jsonPath": ".status.credentialsSecret"}
 * @printColumn {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
 * @selectableField .spec.clientRef.name
 * @selectableField .spec.apiRef.name
 */
export interface Subscription {
  apiVersion: "wicked.dev/v1alpha1";
  kind: "Subscription";
  metadata: ObjectMeta;
  spec: SubscriptionSpec;
  status?: SubscriptionStatus;
}

/** The desired state of a subscription. */
export interface SubscriptionSpec {
  /**
   * The ApiClient that subscribes.
   * @xValidation {"rule": "self == oldSelf", "message": "clientRef cannot change; create a new Subscription"}
   */
  clientRef: LocalObjectReference;
  /**
   * The Api subscribed to.
   * @xValidation {"rule": "self == oldSelf", "message": "apiRef cannot change; create a new Subscription"}
   */
  apiRef: LocalObjectReference;
  /** The Plan; changing it re-applies the new plan's limits (and may need a new approval). */
  planRef: LocalObjectReference;
  /** The approval decision, set by an approver (only approvers may change it). */
  approval?: ApprovalSpec;
  /** How credentials are issued and rotated. */
  credentials?: CredentialsSpec;
}

/**
 * An approver's decision.
 * @xValidation {"rule": "self.decision == 'Pending' || has(self.decidedBy)", "message": "approval.decidedBy must name who approved or rejected"}
 * @xValidation {"rule": "self.decision != 'Rejected' || has(self.reason)", "message": "approval.reason must say why the subscription was rejected"}
 * @xValidation {"rule": "oldSelf.decision != 'Rejected' || self.decision == 'Rejected'", "message": "a rejected subscription stays rejected; create a new Subscription"}
 * @xValidation {"rule": "self.decision != 'Approved' || has(self.plan)", "message": "approval.plan must name the plan the approval is for: a plan change needs a new decision"}
 */
export interface ApprovalSpec {
  /**
   * Pending until an approver decides; Rejected is final.
   * @default "Pending"
   */
  decision?: "Pending" | "Approved" | "Rejected";
  /**
   * Who decided (the approver's user name or email).
   * @maxLength 320
   */
  decidedBy?: string;
  /**
   * Why, shown to the developer.
   * @maxLength 1000
   */
  reason?: string;
  /**
   * The plan the decision is for. An approval counts only while spec.planRef names this plan: moving to
   * another plan that requires approval needs a new decision.
   * @minLength 1
   * @maxLength 253
   * @pattern ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$
   */
  plan?: string;
}

/**
 * The decision that counts for a Subscription's current plan: an approval for another plan (or one that names
 * none, from before approvals named their plan) is no decision; a rejection is final whatever the plan.
 */
export function currentDecision(
  spec: Pick<SubscriptionSpec, "approval" | "planRef">,
): "Pending" | "Approved" | "Rejected" {
  const decision = spec.approval?.decision ?? "Pending";
  if (decision === "Approved" && spec.approval?.plan !== spec.planRef.name) return "Pending";
  return decision;
}

/**
 * Credentials of the subscription.
 * @xValidation {"rule": "!has(self.secretRef) || !has(self.rotation)", "message": "credentials.rotation only applies to generated credentials; rotate a bring-your-own Secret by changing it"}
 */
export interface CredentialsSpec {
  /**
   * Bring your own: a Secret in the namespace holding `apiKey` (key-auth) or `clientId` and `clientSecret`
   * (oauth2), granted to this Subscription by the label `wicked.dev/subscription: <its name>` (another
   * subscription's Secret is refused). Without it the operator generates the credentials.
   */
  secretRef?: LocalObjectReference;
  /** Declarative rotation of generated credentials. */
  rotation?: RotationSpec;
}

/** A rotation request. */
export interface RotationSpec {
  /**
   * Rotates the credentials when set to a time later than the last rotation.
   * @format date-time
   */
  requestedAt: string;
  /**
   * How long the previous API key keeps working after a rotation, in seconds.
   * @minimum 0
   * @maximum 2592000
   * @default 0
   */
  overlapSeconds?: Int32;
}

/** The observed state of a subscription. */
export interface SubscriptionStatus extends CommonStatus {
  /** Where the subscription stands, in one word. */
  phase?: "Pending" | "PendingApproval" | "Provisioning" | "Active" | "Rejected" | "Failed";
  /** Name of the Secret holding the credentials, once issued. */
  credentialsSecret?: string;
  /**
   * When the credentials were last issued or rotated.
   * @format date-time
   */
  credentialsIssuedAt?: string;
}
