/**
 * The portal API's answers, requests and queries as the portal UI reads and sends them, named for the pages.
 * Each is taken from api-schema.generated.ts (generated from the portal API's OpenAPI document by
 * `make openapi`), so the UI depends on the portal API's HTTP contract, not on its code, and a change of that
 * contract that the UI depends on fails the type check.
 */
import type { operations } from "./api-schema.generated.ts";

/** The id of an operation of the portal API (its `operationId`). */
export type OperationId = keyof operations;

/** The JSON body of an operation's answer with `status`. */
export type Answer<
  Id extends OperationId,
  Status extends keyof operations[Id]["responses"],
> = operations[Id]["responses"][Status] extends { content: { "application/json": infer Body } }
  ? Body
  : never;

/** The JSON body an operation takes. */
export type RequestBody<Id extends OperationId> = operations[Id]["requestBody"] extends
  | { content: { "application/json": infer Body } }
  | undefined
  ? Body
  : never;

/** The query parameters an operation takes. */
export type QueryOf<Id extends OperationId> = NonNullable<operations[Id]["parameters"]["query"]>;

/** A page of a list: its items and where it is among all of them. */
export type Page<T> = Omit<Answer<"listApis", 200>, "items"> & { items: T[] };

/** The caller (GET /me). */
export type Me = Answer<"getMe", 200>;

/** An Api in the catalog (GET /apis). */
export type ApiSummary = Answer<"listApis", 200>["items"][number];

/** How clients authenticate at the gateway. */
export type AuthType = ApiSummary["auth"];

/** An Api with its plans (GET /apis/:name). */
export type ApiDetail = Answer<"getApi", 200>;

/** A plan of an Api. */
export type PlanView = ApiDetail["planDetails"][number];

/** Rate limits of a plan. */
export type Limits = PlanView["limits"];

/** An application (GET /applications/:name). */
export type Application = Answer<"getApplication", 200>;

/** A role on an application. */
export type ApplicationRole = Application["role"];

/** A subscription (GET /subscriptions/:name). */
export type Subscription = Answer<"getSubscription", 200>;

/** Credentials of a subscription (GET /subscriptions/:name/credentials). */
export type Credentials = Answer<"getSubscriptionCredentials", 200>;

/** A subscription waiting for a decision (GET /approvals). */
export type PendingApproval = Answer<"listApprovals", 200>["items"][number];

/** A user as admins see them (GET /admin/users). */
export type AdminUser = Answer<"listUsers", 200>["items"][number];

/** An application as admins see it (GET /admin/applications). */
export type AdminApplication = Answer<"listAllApplications", 200>["items"][number];

/** A subscription as admins see it (GET /admin/subscriptions). */
export type AdminSubscription = Answer<"listAllSubscriptions", 200>["items"][number];

/** An entry of the audit log (GET /admin/audit-log). */
export type AuditEntry = Answer<"listAuditLog", 200>["items"][number];

/** An accepted request that continues elsewhere (sign-up, password reset). */
export type Accepted = Answer<"signUp", 202>;
