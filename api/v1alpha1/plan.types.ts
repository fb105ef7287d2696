import type { CommonStatus, Int32, Int64, KongPluginSpec, ObjectMeta } from "./common.types.ts";

/**
 * Plan is a service level clients subscribe to: rate limits, whether a subscription needs approval, and who
 * may choose it.
 * @plural plans
 * @shortName wplan
 * @printColumn {"name": "Display Name", "type": "string", "jsonPath": ".spec.displayName"}
 * @printColumn {"name": "Approval", "type": "boolean", "jsonPath": ".spec.requiresApproval"}
 * @printColumn {"name": "APIs", "type": "integer", "jsonPath": ".status.apiCount"}
 * @printColumn {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}
 * @printColumn {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
 */
export interface Plan {
  apiVersion: "wicked.dev/v1alpha1";
  kind: "Plan";
  metadata: ObjectMeta;
  spec: PlanSpec;
  status?: PlanStatus;
}

/** The desired state of a plan. */
export interface PlanSpec {
  /**
   * Name shown in the portal.
   * @minLength 1
   * @maxLength 100
   */
  displayName: string;
  /**
   * What the plan offers, in markdown.
   * @maxLength 10000
   */
  description?: string;
  /** Requests a subscriber may make per period, counted per subscription and API. Empty means unlimited. */
  rateLimits?: RateLimits;
  /**
   * Whether an approver must approve each subscription before credentials are issued.
   * @default false
   */
  requiresApproval?: boolean;
  /**
   * Only members of this portal group can subscribe with this plan; empty means everyone who sees the API.
   * @pattern ^[a-z][a-z0-9-]*$
   * @maxLength 63
   */
  requiredGroup?: string;
  /**
   * Extra Kong plugins applied to each subscriber's consumer.
   * @listType map
   * @listMapKey name
   * @maxItems 16
   */
  plugins?: KongPluginSpec[];
}

/**
 * Request limits per period. A longer period's limit must not be below a shorter one's.
 * @minProperties 1
 * @xValidation {"rule": "!has(self.second) || !has(self.minute) || self.second <= self.minute", "message": "rateLimits.second must not exceed rateLimits.minute"}
 * @xValidation {"rule": "!has(self.minute) || !has(self.hour) || self.minute <= self.hour", "message": "rateLimits.minute must not exceed rateLimits.hour"}
 * @xValidation {"rule": "!has(self.hour) || !has(self.day) || self.hour <= self.day", "message": "rateLimits.hour must not exceed rateLimits.day"}
 * @xValidation {"rule": "!has(self.day) || !has(self.month) || self.day <= self.month", "message": "rateLimits.day must not exceed rateLimits.month"}
 */
export interface RateLimits {
  /**
   * Requests per second.
   * @minimum 1
   * @maximum 1000000
   */
  second?: Int32;
  /**
   * Requests per minute.
   * @minimum 1
   * @maximum 60000000
   */
  minute?: Int32;
  /**
   * Requests per hour.
   * @minimum 1
   * @maximum 2000000000
   */
  hour?: Int32;
  /**
   * Requests per day.
   * @minimum 1
   */
  day?: Int64;
  /**
   * Requests per month.
   * @minimum 1
   */
  month?: Int64;
}

/** The observed state of a plan. */
export interface PlanStatus extends CommonStatus {
  /** Number of APIs offering this plan. */
  apiCount?: Int32;
}
