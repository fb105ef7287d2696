/**
 * Applications: a user's OAuth/API clients, stored as ApiClient resources in the portal's namespace. The
 * owner manages the application and its collaborators; collaborators subscribe and read credentials;
 * readers look. Lists come from the operator's read model; single objects from the live resource.
 */
import { sql } from "kysely";
import { Type } from "typebox";
import { EMAIL_PATTERN } from "../../accounts/index.ts";
import type { ApiClient, ApiClientSpec, Subscription } from "../../api/v1alpha1/index.ts";
import { appendOutbox } from "../../db/outbox.ts";
import { audit, type PortalApp, type PortalContext, requirePrincipal } from "../context.ts";
import {
  type ApplicationRole,
  applicationRole,
  type Principal,
  ROLE_ALLOWS,
  roleAllows,
} from "../permissions.ts";
import { badRequest, conflict, forbidden, notFound } from "../problems.ts";
import { applicationResource } from "../resources.ts";
import { ApplicationSchema, NameParam, Page, PageQuery, paging, Security } from "../schemas.ts";
import { applicationFromResource, applicationView } from "../views.ts";

const RedirectUri = Type.String({
  pattern: "^(https://[^\\s#]+|http://(localhost|127\\.0\\.0\\.1)(:[0-9]+)?(/[^\\s#]*)?)$",
  maxLength: 2048,
  description: "Exact redirect URI: https, or http on localhost.",
});
const Collaborator = Type.Object(
  {
    user: Type.String({ pattern: EMAIL_PATTERN, maxLength: 320 }),
    role: Type.Union([Type.Literal("Owner"), Type.Literal("Collaborator"), Type.Literal("Reader")]),
  },
  { additionalProperties: false },
);

/** A user's application with their role, or a 404/403 problem. */
export async function applicationFor(
  ctx: PortalContext,
  principal: Principal,
  name: string,
  action: keyof typeof ROLE_ALLOWS,
): Promise<{ resource: ApiClient; role: ApplicationRole }> {
  const resource = await ctx.kube.get<ApiClient>("apiclients", name);
  const role = resource ? applicationRole(principal.user, resource.spec) : undefined;
  if (!resource || !role) throw notFound("application", name);
  if (!roleAllows(role, action)) {
    throw forbidden(
      "insufficient-role",
      `Your role on the application "${name}" is ${role}; this needs ${ROLE_ALLOWS[action].join(" or ")}.`,
    );
  }
  return { resource, role };
}

/** Deletes an application's Subscriptions, then the ApiClient, announcing both. */
export async function deleteApplication(
  ctx: PortalContext,
  principal: Principal,
  resource: ApiClient,
): Promise<void> {
  const name = resource.metadata.name ?? "";
  const subscriptions = (await ctx.kube.list<Subscription>("subscriptions")).filter(
    (s) => s.spec.clientRef.name === name,
  );
  for (const subscription of subscriptions) {
    await ctx.kube.delete("subscriptions", subscription.metadata.name ?? "");
  }
  await ctx.kube.delete("apiclients", name);
  const user = principal.user;
  await ctx.db.transaction().execute(async (trx) => {
    for (const subscription of subscriptions) {
      await appendOutbox(trx, {
        type: "SubscriptionDeleted",
        namespace: ctx.kube.namespace,
        subscription: subscription.metadata.name ?? "",
        application: name,
        api: subscription.spec.apiRef.name,
        plan: subscription.spec.planRef.name,
        userId: user.id,
        email: user.email,
        displayName: user.displayName,
      });
    }
    await appendOutbox(trx, {
      type: "ApplicationDeleted",
      namespace: ctx.kube.namespace,
      application: name,
      applicationDisplayName: resource.spec.displayName,
      userId: user.id,
      email: user.email,
      displayName: user.displayName,
    });
    await audit(trx, ctx, {
      actor: user.id,
      action: "application.delete",
      targetKind: "ApiClient",
      targetName: name,
      details: { subscriptions: subscriptions.length },
    });
  });
}

/** A SQL condition: the user with this email has a role on the clients row. */
export function hasRoleOnClient(email: string) {
  return hasRoleOnClientAs(email.toLowerCase());
}

/** hasRoleOnClient for an email address already in lower case (or a prepared query's placeholder). */
export function hasRoleOnClientAs(lowerCaseEmail: string) {
  return sql<boolean>`(lower(clients.owner) = ${lowerCaseEmail} OR EXISTS (
    SELECT 1 FROM jsonb_array_elements(coalesce(clients.spec->'collaborators', '[]'::jsonb)) AS c
    WHERE lower(c->>'user') = ${lowerCaseEmail}))`;
}

/** The routes under /applications. */
export async function applicationRoutes(app: PortalApp, ctx: PortalContext): Promise<void> {
  app.get(
    "/applications",
    {
      schema: {
        operationId: "listApplications",
        tags: ["applications"],
        summary: "List the applications you own or collaborate on.",
        security: Security.bearer,
        querystring: Type.Object({
          ...PageQuery,
          q: Type.Optional(Type.String({ maxLength: 100, description: "Text in the name or display name." })),
        }),
        response: { 200: Page(ApplicationSchema) },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request, "read");
      const { page, pageSize, offset } = paging(request.query);
      let query = ctx.db
        .selectFrom("clients")
        .where("namespace", "=", ctx.kube.namespace)
        .where(hasRoleOnClient(principal.user.email));
      if (request.query.q) {
        const like = `%${request.query.q.replace(/[\\%_]/g, "\\$&")}%`;
        query = query.where((eb) => eb.or([eb("name", "ilike", like), eb("display_name", "ilike", like)]));
      }
      const [rows, count] = await Promise.all([
        query.selectAll().orderBy("display_name").orderBy("name").limit(pageSize).offset(offset).execute(),
        query.select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow(),
      ]);
      const items = rows.flatMap((row) => {
        const spec = row.spec as unknown as ApiClientSpec;
        const role = applicationRole(principal.user, spec);
        return role ? [applicationView(row.name, spec, row.client_id, role)] : [];
      });
      return { items, page, pageSize, total: Number(count.n) };
    },
  );

  app.post(
    "/applications",
    {
      schema: {
        operationId: "createApplication",
        tags: ["applications"],
        summary: "Register an application.",
        security: Security.bearer,
        body: Type.Object(
          {
            displayName: Type.String({ minLength: 1, maxLength: 100 }),
            description: Type.Optional(Type.String({ maxLength: 2000 })),
            clientType: Type.Optional(Type.Union([Type.Literal("confidential"), Type.Literal("public")])),
            redirectUris: Type.Optional(Type.Array(RedirectUri, { maxItems: 16, uniqueItems: true })),
          },
          { additionalProperties: false },
        ),
        response: { 201: ApplicationSchema },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request, "write");
      const body = request.body;
      if (body.clientType === "public" && (body.redirectUris ?? []).length === 0) {
        throw badRequest(
          "redirect-uri-required",
          "A public application needs at least one redirect URI: it can only use the authorization code flow with PKCE.",
        );
      }
      const user = principal.user;
      const desired = applicationResource(ctx.config.portal, user, body);
      const name = desired.metadata.name ?? "";
      if (await ctx.kube.get("apiclients", name)) {
        throw conflict(
          "application-exists",
          `You already have an application named "${name}", which "${body.displayName}" would be named too (names keep only letters and digits); choose a display name that differs in its letters or digits.`,
        );
      }
      const created = await ctx.kube.create("apiclients", desired);
      request.log.info({ application: name }, "Created ApiClient");
      await ctx.db.transaction().execute(async (trx) => {
        await appendOutbox(trx, {
          type: "ApplicationAdded",
          namespace: ctx.kube.namespace,
          application: name,
          applicationDisplayName: body.displayName,
          userId: user.id,
          email: user.email,
          displayName: user.displayName,
        });
        await audit(trx, ctx, {
          actor: user.id,
          action: "application.create",
          targetKind: "ApiClient",
          targetName: name,
        });
      });
      return reply
        .code(201)
        .header("Location", `/applications/${name}`)
        .send(applicationFromResource(created, "Owner"));
    },
  );

  app.get(
    "/applications/:name",
    {
      schema: {
        operationId: "getApplication",
        tags: ["applications"],
        summary: "Read an application.",
        security: Security.bearer,
        params: NameParam,
        response: { 200: ApplicationSchema },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request, "read");
      const { resource, role } = await applicationFor(ctx, principal, request.params.name, "view");
      return applicationFromResource(resource, role);
    },
  );

  app.patch(
    "/applications/:name",
    {
      schema: {
        operationId: "updateApplication",
        tags: ["applications"],
        summary: "Change an application (owners only).",
        description: "Lists (redirectUris, collaborators) are replaced as a whole.",
        security: Security.bearer,
        params: NameParam,
        body: Type.Object(
          {
            displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            description: Type.Optional(Type.String({ maxLength: 2000 })),
            redirectUris: Type.Optional(Type.Array(RedirectUri, { maxItems: 16, uniqueItems: true })),
            collaborators: Type.Optional(Type.Array(Collaborator, { maxItems: 32 })),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: ApplicationSchema },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request, "write");
      const { resource } = await applicationFor(ctx, principal, request.params.name, "manage");
      const body = request.body;
      const collaborators = body.collaborators;
      if (collaborators) {
        const emails = collaborators.map((c) => c.user.toLowerCase());
        if (new Set(emails).size !== emails.length) {
          throw badRequest("duplicate-collaborator", "Name each collaborator once.");
        }
        if (emails.includes(resource.spec.owner.toLowerCase())) {
          throw badRequest("owner-as-collaborator", "The owner is not listed as a collaborator.");
        }
      }
      const patched = await ctx.kube.mergePatch<ApiClient>("apiclients", request.params.name, { spec: body });
      await audit(ctx.db, ctx, {
        actor: principal.user.id,
        action: "application.update",
        targetKind: "ApiClient",
        targetName: request.params.name,
        details: { fields: Object.keys(body).join(",") },
      });
      return applicationFromResource(patched, applicationRole(principal.user, patched.spec) ?? "Owner");
    },
  );

  app.delete(
    "/applications/:name",
    {
      schema: {
        operationId: "deleteApplication",
        tags: ["applications"],
        summary: "Delete an application and its subscriptions (owners only).",
        security: Security.bearer,
        params: NameParam,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request, "write");
      const { resource } = await applicationFor(ctx, principal, request.params.name, "manage");
      await deleteApplication(ctx, principal, resource);
      request.log.info({ application: request.params.name }, "Deleted ApiClient");
      return reply.code(204).send(null);
    },
  );
}
