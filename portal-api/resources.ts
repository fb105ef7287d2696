/**
 * The ApiClient and Subscription resources the portal API creates on behalf of users, as pure functions:
 * names (DNS-1123 labels, unique per user and application), labels and specs.
 */
import { createHash } from "node:crypto";
import type { ApiClient, ApiClientSpec, Subscription } from "../api/v1alpha1/index.ts";

/** Label naming the portal user who created a resource: a hash of the user id (emails are not label values). */
export const OWNER_LABEL = "wicked.dev/owner";
/** Label on Subscriptions naming their ApiClient, for finding an application's subscriptions. */
export const CLIENT_LABEL = "wicked.dev/client";
/** Label naming the portal a resource belongs to. */
export const PORTAL_LABEL = "wicked.dev/portal";
/** Annotation carrying the owner's email on Subscriptions (their spec has no owner field). */
export const OWNER_EMAIL_ANNOTATION = "wicked.dev/owner-email";
/** Labels every resource the portal API creates carries. */
export const MANAGED_BY = { "app.kubernetes.io/managed-by": "wicked-portal-api" };

const MAX_NAME = 63;

/** A short hex digest, for name suffixes and labels. */
export function digest(value: string, length: number): string {
  return createHash("sha256").update(value, "utf8").digest("hex").slice(0, length);
}

/** The owner label value of a user: the first 40 hex digits of SHA-256(user id). */
export function ownerLabel(userId: string): string {
  return digest(`user:${userId}`, 40);
}

/**
 * Lower-case DNS-1123 label characters of a display name: letters and digits kept (accents folded), anything
 * else a single dash, trimmed to `max`; "app" when nothing is left.
 */
export function slug(text: string, max: number, fallback = "app"): string {
  const folded = text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase();
  const dashed = folded.replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  const cut = dashed.slice(0, max).replace(/-+$/g, "");
  return cut || fallback;
}

/**
 * The ApiClient name for a user's application: the display name's slug and a hash of the user, so two users'
 * "My App" never collide while one user's second "My App" does (the portal refuses it with a 409).
 */
export function applicationName(userId: string, displayName: string): string {
  return `${slug(displayName, MAX_NAME - 9)}-${digest(`user:${userId}`, 8)}`;
}

/**
 * The Subscription name of an application's subscription to an Api: both names shortened, plus a hash of the
 * pair, so one application has at most one subscription per Api.
 */
export function subscriptionName(application: string, api: string): string {
  const hash = digest(`${application}/${api}`, 8);
  const room = MAX_NAME - hash.length - 2;
  const apiPart = slug(api, Math.floor(room / 2), "api");
  const appPart = slug(application, room - apiPart.length, "app");
  return `${appPart}-${apiPart}-${hash}`;
}

/** What a user asks for when registering an application. */
export interface ApplicationInput {
  displayName: string;
  description?: string;
  clientType?: "confidential" | "public";
  redirectUris?: string[];
}

/** The ApiClient a user's application becomes. */
export function applicationResource(
  portal: { namespace: string; name: string },
  owner: { id: string; email: string },
  input: ApplicationInput,
): ApiClient {
  const spec: ApiClientSpec = {
    displayName: input.displayName,
    owner: owner.email,
    clientType: input.clientType ?? "confidential",
  };
  if (input.description) spec.description = input.description;
  if (input.redirectUris && input.redirectUris.length > 0) spec.redirectUris = input.redirectUris;
  return {
    apiVersion: "wicked.dev/v1alpha1",
    kind: "ApiClient",
    metadata: {
      name: applicationName(owner.id, input.displayName),
      namespace: portal.namespace,
      labels: { ...MANAGED_BY, [OWNER_LABEL]: ownerLabel(owner.id), [PORTAL_LABEL]: portal.name },
    },
    spec,
  };
}

/** The Subscription of an application to an Api under a plan. */
export function subscriptionResource(
  portal: { namespace: string; name: string },
  owner: { id: string; email: string },
  input: { application: string; api: string; plan: string },
): Subscription {
  return {
    apiVersion: "wicked.dev/v1alpha1",
    kind: "Subscription",
    metadata: {
      name: subscriptionName(input.application, input.api),
      namespace: portal.namespace,
      labels: {
        ...MANAGED_BY,
        [OWNER_LABEL]: ownerLabel(owner.id),
        [PORTAL_LABEL]: portal.name,
        [CLIENT_LABEL]: input.application,
      },
      annotations: { [OWNER_EMAIL_ANNOTATION]: owner.email },
    },
    spec: {
      clientRef: { name: input.application },
      apiRef: { name: input.api },
      planRef: { name: input.plan },
    },
  };
}
