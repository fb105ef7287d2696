/**
 * How applications and subscriptions look in the portal API, from either source: the live resource (for
 * single objects, so a user sees their change at once) or the operator's read model (for lists).
 */
import type { Static } from "typebox";
import {
  type ApiClient,
  type ApiClientSpec,
  currentDecision,
  type Subscription,
  type SubscriptionSpec,
} from "../api/v1alpha1/index.ts";
import type { ApplicationRole } from "./permissions.ts";
import type { ApplicationSchema, SubscriptionSchema } from "./schemas.ts";

/** An application as the API returns it. */
export type ApplicationView = Static<typeof ApplicationSchema>;
/** A subscription as the API returns it. */
export type SubscriptionView = Static<typeof SubscriptionSchema>;

/** An application from its spec, client id and the caller's role. */
export function applicationView(
  name: string,
  spec: ApiClientSpec,
  clientId: string | null | undefined,
  role: ApplicationRole,
): ApplicationView {
  const view: ApplicationView = {
    name,
    displayName: spec.displayName,
    owner: spec.owner,
    clientType: spec.clientType ?? "confidential",
    redirectUris: spec.redirectUris ?? [],
    collaborators: spec.collaborators ?? [],
    clientId: clientId ?? null,
    role,
  };
  if (spec.description) view.description = spec.description;
  return view;
}

/** An application from its live resource. */
export function applicationFromResource(resource: ApiClient, role: ApplicationRole): ApplicationView {
  return applicationView(resource.metadata.name ?? "", resource.spec, resource.status?.clientId, role);
}

/** A subscription from its live resource. */
export function subscriptionFromResource(resource: Subscription): SubscriptionView {
  const decision = currentDecision(resource.spec);
  const view: SubscriptionView = {
    name: resource.metadata.name ?? "",
    application: resource.spec.clientRef.name,
    api: resource.spec.apiRef.name,
    plan: resource.spec.planRef.name,
    phase: resource.status?.phase ?? "Pending",
    approval: decision,
    credentialsReady: Boolean(resource.status?.credentialsSecret),
  };
  if (resource.spec.approval?.reason) view.approvalReason = resource.spec.approval.reason;
  return view;
}

/** A subscription from its read-model row. */
export function subscriptionFromRow(row: {
  name: string;
  client_name: string;
  api_name: string;
  plan_name: string;
  phase: string;
  approved: boolean | null;
  credentials_secret: string | null;
  spec: unknown;
}): SubscriptionView {
  const spec = row.spec as Partial<SubscriptionSpec>;
  const view: SubscriptionView = {
    name: row.name,
    application: row.client_name,
    api: row.api_name,
    plan: row.plan_name,
    phase: row.phase,
    approval: row.approved === null ? "Pending" : row.approved ? "Approved" : "Rejected",
    credentialsReady: row.credentials_secret !== null,
  };
  if (spec.approval?.reason) view.approvalReason = spec.approval.reason;
  return view;
}
