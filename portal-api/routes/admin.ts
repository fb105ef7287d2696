/**
 * Admin endpoints: users (with their groups), all applications and subscriptions of the portal, and the
 * audit log with filters and CSV export. Only for portal admins with the admin scope.
 */
import { type SelectQueryBuilder, sql } from "kysely";
import { Type } from "typebox";
import type { ApiClientSpec } from "../../api/v1alpha1/index.ts";
import type { Database } from "../../db/schema.ts";
import { audit, type PortalApp, type PortalContext, requireAdmin } from "../context.ts";
import { toCsv } from "../csv.ts";
import { notFound } from "../problems.ts";
import { Page, PageQuery, paging, Security, SubscriptionSchema } from "../schemas.ts";
import { subscriptionFromRow } from "../views.ts";

const UserView = Type.Object({
  id: Type.String({ format: "uuid" }),
  email: Type.String(),
  displayName: Type.String(),
  emailVerified: Type.Boolean(),
  groups: Type.Array(Type.String()),
  isAdmin: Type.Boolean(),
  createdAt: Type.String({ format: "date-time" }),
});

const AdminApplication = Type.Object({
  name: Type.String(),
  displayName: Type.String(),
  owner: Type.String(),
  clientType: Type.String(),
  clientId: Type.Union([Type.String(), Type.Null()]),
  collaborators: Type.Integer({ minimum: 0 }),
});

const AdminSubscription = Type.Object({ ...SubscriptionSchema.properties, owner: Type.String() });

const AuditEntry = Type.Object({
  id: Type.String(),
  at: Type.String({ format: "date-time" }),
  actor: Type.String(),
  action: Type.String(),
  targetKind: Type.String(),
  targetName: Type.String(),
  namespace: Type.Union([Type.String(), Type.Null()]),
  details: Type.Object({}, { additionalProperties: true }),
});

const AuditFilters = {
  actor: Type.Optional(
    Type.String({ maxLength: 320, description: "User id, `operator` or a Kubernetes user." }),
  ),
  action: Type.Optional(
    Type.String({ maxLength: 100, description: "Exact action, or a prefix ending in `.`." }),
  ),
  targetKind: Type.Optional(Type.String({ maxLength: 100 })),
  targetName: Type.Optional(Type.String({ maxLength: 253 })),
  from: Type.Optional(Type.String({ format: "date-time", description: "Entries at or after this time." })),
  to: Type.Optional(Type.String({ format: "date-time", description: "Entries before this time." })),
};

/** Most rows one CSV export returns; narrow the filters for more. */
const MAX_CSV_ROWS = 50_000;

/** The routes under /admin. */
export async function adminRoutes(app: PortalApp, ctx: PortalContext): Promise<void> {
  const namespace = ctx.kube.namespace;

  function auditQuery(filters: {
    actor?: string;
    action?: string;
    targetKind?: string;
    targetName?: string;
    from?: string;
    to?: string;
  }): SelectQueryBuilder<Database, "audit_log", object> {
    let query = ctx.db.selectFrom("audit_log").where("namespace", "=", namespace);
    if (filters.actor) query = query.where("actor", "=", filters.actor);
    if (filters.action) {
      query = filters.action.endsWith(".")
        ? query.where("action", "like", `${filters.action.replace(/[\\%_]/g, "\\$&")}%`)
        : query.where("action", "=", filters.action);
    }
    if (filters.targetKind) query = query.where("target_kind", "=", filters.targetKind);
    if (filters.targetName) query = query.where("target_name", "=", filters.targetName);
    if (filters.from) query = query.where("at", ">=", new Date(filters.from));
    if (filters.to) query = query.where("at", "<", new Date(filters.to));
    return query;
  }

  app.get(
    "/admin/users",
    {
      schema: {
        operationId: "listUsers",
        tags: ["admin"],
        summary: "List users.",
        security: Security.bearer,
        querystring: Type.Object({
          ...PageQuery,
          q: Type.Optional(Type.String({ maxLength: 100, description: "Text in the email or name." })),
          group: Type.Optional(Type.String({ maxLength: 63 })),
          verified: Type.Optional(Type.Boolean()),
        }),
        response: { 200: Page(UserView) },
      },
    },
    async (request) => {
      requireAdmin(request, ctx);
      const { page, pageSize, offset } = paging(request.query);
      const { q, group, verified } = request.query;
      let query = ctx.db.selectFrom("users").where("deleted_at", "is", null);
      if (q) {
        const like = `%${q.replace(/[\\%_]/g, "\\$&")}%`;
        query = query.where((eb) => eb.or([eb("email", "ilike", like), eb("display_name", "ilike", like)]));
      }
      if (group) query = query.where(sql<boolean>`${group} = ANY(users.groups)`);
      if (verified !== undefined) query = query.where("email_verified_at", verified ? "is not" : "is", null);
      const [rows, count] = await Promise.all([
        query.selectAll().orderBy("created_at").orderBy("id").limit(pageSize).offset(offset).execute(),
        query.select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow(),
      ]);
      return {
        items: rows.map((u) => ({
          id: u.id,
          email: u.email,
          displayName: u.display_name,
          emailVerified: u.email_verified_at !== null,
          groups: u.groups,
          isAdmin: u.is_admin,
          createdAt: u.created_at.toISOString(),
        })),
        page,
        pageSize,
        total: Number(count.n),
      };
    },
  );

  app.patch(
    "/admin/users/:id",
    {
      schema: {
        operationId: "updateUser",
        tags: ["admin"],
        summary: "Change a user's portal groups or admin flag.",
        security: Security.bearer,
        params: Type.Object({ id: Type.String({ format: "uuid" }) }),
        body: Type.Object(
          {
            groups: Type.Optional(
              Type.Array(Type.String({ pattern: "^[a-z][a-z0-9-]*$", maxLength: 63 }), {
                maxItems: 64,
                uniqueItems: true,
              }),
            ),
            isAdmin: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: UserView },
      },
    },
    async (request) => {
      const principal = requireAdmin(request, ctx);
      const { groups, isAdmin } = request.body;
      const updated = await ctx.db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable("users")
          .set({
            ...(groups ? { groups } : {}),
            ...(isAdmin !== undefined ? { is_admin: isAdmin } : {}),
            updated_at: ctx.clock(),
          })
          .where("id", "=", request.params.id)
          .where("deleted_at", "is", null)
          .returningAll()
          .executeTakeFirst();
        if (!row) throw notFound("user", request.params.id);
        await audit(trx, ctx, {
          actor: principal.user.id,
          action: "user.update",
          targetKind: "User",
          targetName: row.id,
          details: { groups: groups ? groups.join(",") : null, isAdmin: isAdmin ?? null },
        });
        return row;
      });
      return {
        id: updated.id,
        email: updated.email,
        displayName: updated.display_name,
        emailVerified: updated.email_verified_at !== null,
        groups: updated.groups,
        isAdmin: updated.is_admin,
        createdAt: updated.created_at.toISOString(),
      };
    },
  );

  app.get(
    "/admin/applications",
    {
      schema: {
        operationId: "listAllApplications",
        tags: ["admin"],
        summary: "List every application of the portal.",
        security: Security.bearer,
        querystring: Type.Object({
          ...PageQuery,
          owner: Type.Optional(Type.String({ maxLength: 320 })),
          q: Type.Optional(Type.String({ maxLength: 100 })),
        }),
        response: { 200: Page(AdminApplication) },
      },
    },
    async (request) => {
      requireAdmin(request, ctx);
      const { page, pageSize, offset } = paging(request.query);
      let query = ctx.db.selectFrom("clients").where("namespace", "=", namespace);
      if (request.query.owner)
        query = query.where(sql<boolean>`lower(owner) = ${request.query.owner.toLowerCase()}`);
      if (request.query.q) {
        const like = `%${request.query.q.replace(/[\\%_]/g, "\\$&")}%`;
        query = query.where((eb) => eb.or([eb("name", "ilike", like), eb("display_name", "ilike", like)]));
      }
      const [rows, count] = await Promise.all([
        query.selectAll().orderBy("name").limit(pageSize).offset(offset).execute(),
        query.select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow(),
      ]);
      return {
        items: rows.map((r) => ({
          name: r.name,
          displayName: r.display_name,
          owner: r.owner,
          clientType: r.client_type,
          clientId: r.client_id,
          collaborators: ((r.spec as unknown as ApiClientSpec).collaborators ?? []).length,
        })),
        page,
        pageSize,
        total: Number(count.n),
      };
    },
  );

  app.get(
    "/admin/subscriptions",
    {
      schema: {
        operationId: "listAllSubscriptions",
        tags: ["admin"],
        summary: "List every subscription of the portal.",
        security: Security.bearer,
        querystring: Type.Object({
          ...PageQuery,
          api: Type.Optional(Type.String({ maxLength: 253 })),
          application: Type.Optional(Type.String({ maxLength: 253 })),
          phase: Type.Optional(Type.String({ maxLength: 32 })),
          owner: Type.Optional(Type.String({ maxLength: 320 })),
        }),
        response: { 200: Page(AdminSubscription) },
      },
    },
    async (request) => {
      requireAdmin(request, ctx);
      const { page, pageSize, offset } = paging(request.query);
      const { api, application, phase, owner } = request.query;
      let query = ctx.db.selectFrom("subscriptions").where("namespace", "=", namespace);
      if (api) query = query.where("api_name", "=", api);
      if (application) query = query.where("client_name", "=", application);
      if (phase) query = query.where("phase", "=", phase);
      if (owner) query = query.where(sql<boolean>`lower(owner) = ${owner.toLowerCase()}`);
      const [rows, count] = await Promise.all([
        query.selectAll().orderBy("name").limit(pageSize).offset(offset).execute(),
        query.select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow(),
      ]);
      return {
        items: rows.map((r) => ({ ...subscriptionFromRow(r), owner: r.owner })),
        page,
        pageSize,
        total: Number(count.n),
      };
    },
  );

  app.get(
    "/admin/audit-log",
    {
      schema: {
        operationId: "listAuditLog",
        tags: ["admin"],
        summary: "Read the audit log, newest first.",
        security: Security.bearer,
        querystring: Type.Object({ ...PageQuery, ...AuditFilters }),
        response: { 200: Page(AuditEntry) },
      },
    },
    async (request) => {
      requireAdmin(request, ctx);
      const { page, pageSize, offset } = paging(request.query);
      const query = auditQuery(request.query);
      const [rows, count] = await Promise.all([
        query.selectAll().orderBy("id", "desc").limit(pageSize).offset(offset).execute(),
        query.select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow(),
      ]);
      return {
        items: rows.map((r) => ({
          id: r.id,
          at: r.at.toISOString(),
          actor: r.actor,
          action: r.action,
          targetKind: r.target_kind,
          targetName: r.target_name,
          namespace: r.namespace,
          details: r.details,
        })),
        page,
        pageSize,
        total: Number(count.n),
      };
    },
  );

  app.get(
    "/admin/audit-log.csv",
    {
      schema: {
        operationId: "exportAuditLog",
        tags: ["admin"],
        summary: "Export the audit log as CSV, oldest first (at most 50 000 rows).",
        security: Security.bearer,
        querystring: Type.Object(AuditFilters),
        response: {
          200: {
            description: "RFC 4180 CSV with a header row.",
            content: { "text/csv": { schema: Type.String() } },
          },
        },
      },
    },
    async (request, reply) => {
      const principal = requireAdmin(request, ctx);
      const rows = await auditQuery(request.query).selectAll().orderBy("id").limit(MAX_CSV_ROWS).execute();
      await audit(ctx.db, ctx, {
        actor: principal.user.id,
        action: "audit.export",
        targetKind: "AuditLog",
        targetName: namespace,
        details: { rows: rows.length },
      });
      const csv = toCsv(
        ["id", "at", "actor", "action", "target_kind", "target_name", "namespace", "details"],
        rows,
      );
      return reply
        .type("text/csv; charset=utf-8")
        .header("Content-Disposition", `attachment; filename="audit-log-${namespace}.csv"`)
        .send(csv);
    },
  );
}
