/**
 * The caller's own account: profile, password change, and deletion (which removes the user's applications
 * and their subscriptions from the cluster, ends every session, and keeps a tombstone row for the audit
 * trail).
 */
import { Type } from "typebox";
import { changePassword, revokeUserSessions } from "../../accounts/index.ts";
import type { ApiClient } from "../../api/v1alpha1/index.ts";
import { audit, type PortalApp, type PortalContext, requirePrincipal } from "../context.ts";
import { canApprove, isAdmin } from "../permissions.ts";
import { OWNER_LABEL, ownerLabel } from "../resources.ts";
import { Security } from "../schemas.ts";
import { deleteApplication } from "./applications.ts";

const Me = Type.Object({
  id: Type.String({ format: "uuid" }),
  email: Type.String(),
  displayName: Type.String(),
  groups: Type.Array(Type.String()),
  permissions: Type.Object({
    admin: Type.Boolean({ description: "Administers the portal." }),
    approver: Type.Boolean({ description: "Approves subscriptions (to Apis in their groups)." }),
  }),
  scopes: Type.Array(Type.String(), { description: "Scopes of the access token in use." }),
});

/** The routes under /me. */
export async function meRoutes(app: PortalApp, ctx: PortalContext): Promise<void> {
  const groups = ctx.config.groups;

  app.get(
    "/me",
    {
      schema: {
        operationId: "getMe",
        tags: ["account"],
        summary: "Your account and permissions.",
        security: Security.bearer,
        response: { 200: Me },
      },
    },
    async (request) => {
      const { user, scopes } = requirePrincipal(request, "read");
      return {
        id: user.id,
        email: user.email,
        displayName: user.displayName,
        groups: user.groups,
        permissions: {
          admin: isAdmin(user, groups),
          approver: canApprove(user, null, groups),
        },
        scopes: [...scopes].sort(),
      };
    },
  );

  app.patch(
    "/me",
    {
      schema: {
        operationId: "updateMe",
        tags: ["account"],
        summary: "Change your display name.",
        security: Security.bearer,
        body: Type.Object(
          { displayName: Type.String({ minLength: 1, maxLength: 200 }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ displayName: Type.String() }) },
      },
    },
    async (request) => {
      const { user } = requirePrincipal(request, "write");
      const displayName = request.body.displayName.trim() || user.displayName;
      await ctx.db
        .updateTable("users")
        .set({ display_name: displayName, updated_at: ctx.clock() })
        .where("id", "=", user.id)
        .execute();
      return { displayName };
    },
  );

  app.post(
    "/me/password",
    {
      schema: {
        operationId: "changePassword",
        tags: ["account"],
        summary: "Change your password.",
        security: Security.bearer,
        body: Type.Object(
          {
            currentPassword: Type.String({ minLength: 1, maxLength: 1024 }),
            newPassword: Type.String({ minLength: 1, maxLength: 1024 }),
          },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const { user } = requirePrincipal(request, "write");
      await changePassword(ctx.accounts, user.id, request.body.currentPassword, request.body.newPassword);
      await audit(ctx.db, ctx, {
        actor: user.id,
        action: "user.password.change",
        targetKind: "User",
        targetName: user.id,
      });
      return reply.code(204).send(null);
    },
  );

  app.delete(
    "/me",
    {
      schema: {
        operationId: "deleteMe",
        tags: ["account"],
        summary: "Delete your account with your applications and subscriptions.",
        security: Security.bearer,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request, "write");
      const { user } = principal;
      const labelled = await ctx.kube.list<ApiClient>("apiclients", `${OWNER_LABEL}=${ownerLabel(user.id)}`);
      // By address only when the address is trusted: an unproven one must not delete another's applications.
      const owned = user.emailTrusted
        ? (await ctx.kube.list<ApiClient>("apiclients")).filter(
            (c) => c.spec.owner.toLowerCase() === user.email.toLowerCase(),
          )
        : [];
      const byName = new Map([...labelled, ...owned].map((c) => [c.metadata.name ?? "", c]));
      for (const client of byName.values()) await deleteApplication(ctx, principal, client);
      await ctx.db.transaction().execute(async (trx) => {
        const now = ctx.clock();
        await trx
          .updateTable("users")
          .set({ deleted_at: now, password_hash: null, updated_at: now })
          .where("id", "=", user.id)
          .execute();
        await trx.deleteFrom("identities").where("user_id", "=", user.id).execute();
        await revokeUserSessions(trx, user.id);
        await audit(trx, ctx, {
          actor: user.id,
          action: "user.delete",
          targetKind: "User",
          targetName: user.id,
          details: { applications: byName.size },
        });
      });
      request.log.info({ userId: user.id, applications: byName.size }, "Deleted User");
      return reply.code(204).send(null);
    },
  );
}
