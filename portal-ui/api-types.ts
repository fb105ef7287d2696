/**
 * The portal API's answers as the portal UI reads them (portal-api/routes/*, its /openapi.json). Written out
 * here rather than imported, so the UI depends on the portal API's HTTP contract, not on its code.
 */

/** A page of a list. */
export interface Page<T> {
  items: T[];
  page: number;
  pageSize: number;
  total: number;
}

/** The caller (GET /me). */
export interface Me {
  id: string;
  email: string;
  displayName: string;
  groups: string[];
  permissions: { admin: boolean; approver: boolean };
  scopes: string[];
}

/** How clients authenticate at the gateway. */
export type AuthType = "key-auth" | "oauth2" | "none";

/** An Api in the catalog (GET /apis). */
export interface ApiSummary {
  name: string;
  displayName: string;
  description: string;
  auth: AuthType;
  tags: string[];
  deprecated: boolean;
  requiredGroup: string | null;
  plans: string[];
}

/** Rate limits of a plan. */
export interface Limits {
  second?: number;
  minute?: number;
  hour?: number;
  day?: number;
  month?: number;
}

/** A plan of an Api. */
export interface PlanView {
  name: string;
  displayName: string;
  description: string;
  requiresApproval: boolean;
  limits: Limits;
}

/** An Api with its plans (GET /apis/:name). */
export interface ApiDetail extends ApiSummary {
  baseUrl: string;
  scopes: Array<{ name: string; description?: string }>;
  flows: string[];
  planDetails: PlanView[];
  hasOpenApi: boolean;
  deprecation?: { since?: string; sunset?: string; message?: string };
}

/** A role on an application. */
export type ApplicationRole = "Owner" | "Collaborator" | "Reader";

/** An application (GET /applications/:name). */
export interface Application {
  name: string;
  displayName: string;
  description?: string;
  owner: string;
  clientType: "confidential" | "public";
  redirectUris: string[];
  collaborators: Array<{ user: string; role: ApplicationRole }>;
  clientId: string | null;
  role: ApplicationRole;
}

/** A subscription (GET /subscriptions/:name). */
export interface Subscription {
  name: string;
  application: string;
  api: string;
  plan: string;
  phase: string;
  approval: "Pending" | "Approved" | "Rejected";
  approvalReason?: string;
  credentialsReady: boolean;
}

/** Credentials of a subscription (GET /subscriptions/:name/credentials). */
export interface Credentials {
  subscription: string;
  type: "key-auth" | "oauth2";
  apiKey?: string;
  keyHeader?: string;
  clientId?: string;
  clientSecret?: string;
  tokenUrl?: string;
  apiUrl?: string;
  issuedAt?: string;
}

/** A subscription waiting for a decision (GET /approvals). */
export interface PendingApproval extends Subscription {
  owner: string;
  /** The application's title (older portal APIs leave it out). */
  applicationDisplayName?: string;
  apiDisplayName: string;
  planDisplayName: string;
  requestedAt: string;
}

/** A user as admins see them (GET /admin/users). */
export interface AdminUser {
  id: string;
  email: string;
  displayName: string;
  emailVerified: boolean;
  groups: string[];
  isAdmin: boolean;
  createdAt: string;
}

/** An application as admins see it (GET /admin/applications). */
export interface AdminApplication {
  name: string;
  displayName: string;
  owner: string;
  clientType: string;
  clientId: string | null;
  collaborators: number;
}

/** A subscription as admins see it (GET /admin/subscriptions). */
export interface AdminSubscription extends Subscription {
  owner: string;
}

/** An entry of the audit log (GET /admin/audit-log). */
export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  targetKind: string;
  targetName: string;
  namespace: string | null;
  details: Record<string, unknown>;
}

/** An accepted request that continues elsewhere (sign-up, password reset). */
export interface Accepted {
  status: "accepted";
  detail: string;
}
