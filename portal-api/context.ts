/**
 * What every route plugin gets: the configuration, the database, the portal's namespace in Kubernetes, the
 * clock, and the helpers that check the caller. Built once in app.ts.
 */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from "fastify";
import type { Kysely, Transaction } from "kysely";
import type { AccountsContext, Clock } from "../accounts/service.ts";
import type { Limit } from "../component/throttle.ts";
import type { Database } from "../db/schema.ts";
import type { PortalApiConfig } from "./config.ts";
import type { PortalKube } from "./kube.ts";
import { type Access, isAdmin, type Principal, scopeFor, tokenAllows } from "./permissions.ts";
import { forbidden, unauthorized } from "./problems.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The caller, when the request carried a valid access token; set by the authentication plugin. */
    principal: Principal | null;
  }
}

/** The fastify instance routes are registered on, typed through TypeBox. */
export type PortalApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** An entry of the audit log. */
export interface AuditEntry {
  actor: string;
  action: string;
  targetKind: string;
  targetName: string;
  details?: Record<string, string | number | boolean | null>;
}

/** The dependencies and helpers of the routes. */
export interface PortalContext {
  config: PortalApiConfig;
  db: Kysely<Database>;
  kube: PortalKube;
  clock: Clock;
  /** Account rules (password policy, verification) for the account routes. */
  accounts: AccountsContext;
  /** The auth server's endpoints, for OpenAPI documents and credentials. */
  authEndpoints: { token: string; authorization: string };
  /** Limits of the unauthenticated account routes. */
  throttle: AccountThrottle;
}

/**
 * Limits of the unauthenticated account routes, per replica: per client address (all five routes together),
 * per account (the routes that take an email address, so nobody can flood one inbox) and global.
 */
export interface AccountThrottle {
  perAddress: Limit;
  perAccount: Limit;
  global: Limit;
}

/**
 * The caller of a request that needs a user and a scope: throws 401 without a valid token and 403 when the
 * token lacks the scope (the body names it).
 */
export function requirePrincipal(request: FastifyRequest, access: Access): Principal {
  const principal = request.principal;
  if (!principal) {
    throw unauthorized(
      "Log in first: send an access token from the portal's auth server as `Authorization: Bearer <token>`.",
      "invalid_request",
    );
  }
  if (!tokenAllows(principal.scopes, access)) {
    throw forbidden(
      "insufficient-scope",
      `Your access token lacks the scope "${scopeFor(access)}"; log in again through the portal to get it.`,
    );
  }
  return principal;
}

/** The caller of an admin route: a user with the admin scope who administers the portal. */
export function requireAdmin(request: FastifyRequest, ctx: PortalContext): Principal {
  const principal = requirePrincipal(request, "admin");
  if (!isAdmin(principal.user, ctx.config.groups)) {
    throw forbidden(
      "not-an-admin",
      `Only members of the portal group "${ctx.config.groups.admin}" may do this.`,
    );
  }
  return principal;
}

/** Appends an entry to the audit log, inside the caller's transaction when given one. */
export async function audit(
  db: Kysely<Database> | Transaction<Database>,
  ctx: Pick<PortalContext, "config" | "clock">,
  entry: AuditEntry,
): Promise<void> {
  await db
    .insertInto("audit_log")
    .values({
      at: ctx.clock(),
      actor: entry.actor,
      action: entry.action,
      target_kind: entry.targetKind,
      target_name: entry.targetName,
      namespace: ctx.config.portal.namespace,
      details: JSON.stringify(entry.details ?? {}),
    })
    .execute();
}
