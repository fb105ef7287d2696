/**
 * Who may do what, as pure functions of the caller (user, groups, token scopes) and the object. A token's
 * scopes limit what the portal API does for it; the user's groups limit what the user may do at all; both
 * must allow an action.
 */

import { SCOPE_ADMIN, SCOPE_APPROVE, SCOPE_READ, SCOPE_WRITE } from "../accounts/scopes.ts";
import type { ApiClientSpec } from "../api/v1alpha1/index.ts";

/** A live portal user as the permission checks see them. */
export interface PortalUser {
  id: string;
  email: string;
  /**
   * Whether the address may be matched against applications' owner and collaborators: proven (a mailed link,
   * a password reset or an identity provider that verified it), or — in a portal without mail, where nothing
   * can be proven — the account's own local sign-up. An identity provider's unverified address is not.
   */
  emailTrusted: boolean;
  displayName: string;
  groups: string[];
  isAdmin: boolean;
}

/** The caller of a request: the user and what their token allows. */
export interface Principal {
  user: PortalUser;
  /** Scopes of the access token. */
  scopes: ReadonlySet<string>;
  /** The OAuth client the token was issued to (the portal UI, usually). */
  clientId: string;
}

/** The portal's special groups (ApiPortal `groups`). */
export interface GroupNames {
  admin: string;
  approver: string;
}

/** What a principal asks to do, for the scope check. */
export type Access = "read" | "write" | "approve" | "admin";

const SCOPE_OF: Record<Access, string> = {
  read: SCOPE_READ,
  write: SCOPE_WRITE,
  approve: SCOPE_APPROVE,
  admin: SCOPE_ADMIN,
};

/** The scope an access needs. */
export function scopeFor(access: Access): string {
  return SCOPE_OF[access];
}

/** Whether the token allows the access; `portal.write` implies `portal.read`. */
export function tokenAllows(scopes: ReadonlySet<string>, access: Access): boolean {
  if (access === "read" && scopes.has(SCOPE_WRITE)) return true;
  return scopes.has(SCOPE_OF[access]);
}

/** Whether the user administers the portal: the `is_admin` flag or the admin group. */
export function isAdmin(user: PortalUser, groups: GroupNames): boolean {
  return user.isAdmin || user.groups.includes(groups.admin);
}

/** Whether a caller (or an anonymous visitor, null) sees an object restricted to a group (null: everyone). */
export function canSee(user: PortalUser | null, requiredGroup: string | null, groups: GroupNames): boolean {
  if (!requiredGroup) return true;
  if (!user) return false;
  return isAdmin(user, groups) || user.groups.includes(requiredGroup);
}

/**
 * Whether a user may approve subscriptions to an Api: admins always; members of the approver group for Apis
 * in one of their groups, and for Apis without a group.
 */
export function canApprove(user: PortalUser, apiGroup: string | null, groups: GroupNames): boolean {
  if (isAdmin(user, groups)) return true;
  if (!user.groups.includes(groups.approver)) return false;
  return apiGroup === null || user.groups.includes(apiGroup);
}

/** A user's role on an application. */
export type ApplicationRole = "Owner" | "Collaborator" | "Reader";

/** The user's role on an application, from its spec; undefined when they have none or their address is not trusted. */
export function applicationRole(
  user: Pick<PortalUser, "email" | "emailTrusted">,
  spec: Pick<ApiClientSpec, "owner" | "collaborators">,
): ApplicationRole | undefined {
  if (!user.emailTrusted) return undefined;
  const me = user.email.toLowerCase();
  if (spec.owner.toLowerCase() === me) return "Owner";
  return spec.collaborators?.find((c) => c.user.toLowerCase() === me)?.role;
}

/** What each role may do with an application and its subscriptions. */
export const ROLE_ALLOWS = {
  /** See the application and its subscriptions. */
  view: ["Owner", "Collaborator", "Reader"],
  /** Subscribe, unsubscribe, read and rotate credentials. */
  subscribe: ["Owner", "Collaborator"],
  /** Change or delete the application and its collaborators. */
  manage: ["Owner"],
} as const satisfies Record<string, readonly ApplicationRole[]>;

/** Whether a role allows an action on an application. */
export function roleAllows(role: ApplicationRole | undefined, action: keyof typeof ROLE_ALLOWS): boolean {
  return role !== undefined && (ROLE_ALLOWS[action] as readonly ApplicationRole[]).includes(role);
}
