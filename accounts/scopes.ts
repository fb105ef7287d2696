/**
 * The scopes of access tokens for the portal API: the contract between the auth server, which grants them
 * to the portal UI, and the portal API, which turns them (with the user's groups) into permissions. A scope
 * never grants more than the user's groups allow: `portal.approve` is useless to a user outside the approver
 * group.
 */

/** Reading the catalog, one's own account, applications and subscriptions. */
export const SCOPE_READ = "portal.read";
/** Changing one's own account, applications and subscriptions, and reading credentials. */
export const SCOPE_WRITE = "portal.write";
/** Approving and rejecting subscriptions (approvers only). */
export const SCOPE_APPROVE = "portal.approve";
/** The admin endpoints (admins only). */
export const SCOPE_ADMIN = "portal.admin";

/** Every scope the portal API understands, as the auth server offers them for its resource indicator. */
export const PORTAL_API_SCOPES = [SCOPE_READ, SCOPE_WRITE, SCOPE_APPROVE, SCOPE_ADMIN] as const;

/** A portal API scope. */
export type PortalApiScope = (typeof PORTAL_API_SCOPES)[number];
