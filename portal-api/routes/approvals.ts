/**
 * Approvals: subscriptions under plans that require approval wait for an approver of the Api's group.
 * Approvers list what they may decide, then approve or reject; the decision is written into the
 * Subscription's spec.approval (with the approver as decidedBy) and recorded in the audit log. The portal
 * API checks the approver here; the admission webhook enforces it again for every other client.
 */
import { sql } from "kysely";
import { Type } from "typebox";
import { type ApiClient, currentDecision, type Subscription } from "../../api/v1alpha1/index.ts";
import { audit, type PortalApp, type PortalContext, requirePrincipal } from "../context.ts";
import { applicationRole, canApprove, isAdmin, type Principal } from "../permissions.ts";
import { conflict, forbidden, notFound } from "../problems.ts";
import { OWNER_EMAIL_ANNOTATION } from "../resources.ts";
import { NameParam, Page, PageQuery, paging, Security, SubscriptionSchema } from "../schemas.ts";
import { subscriptionFromResource } from "../views.ts";

const PendingApproval = Type.Object({
  ...SubscriptionSchema.properties,
  owner: Type.String({ description: "Email of the application's owner." }),
  applicationDisplayName: Type.String({
    description: "The application's title (its name while the read model has not seen the application).",
  }),
  apiDisplayName: Type.String(),
  planDisplayName: Type.String(),
  requestedAt: Type.String({
    format: "date-time",
    description: "When the read model last saw the subscription change.",
  }),
});

/** The routes under /approvals. */
export async function approvalRoutes(app: PortalApp, ctx: PortalContext): Promise<void> {
  const groups = ctx.config.groups;

  function requireApprover(principal: Principal): void {
    if (!isAdmin(principal.user, groups) && !principal.user.groups.includes(groups.approver)) {
      throw forbidden(
        "not-an-approver",
        `Only members of the portal group "${groups.approver}" approve subscriptions.`,
      );
    }
  }

  app.get(
    "/approvals",
    {
      schema: {
        operationId: "listApprovals",
        tags: ["approvals"],
        summary: "List the subscriptions waiting for your decision.",
        security: Security.bearer,
        querystring: Type.Object({ ...PageQuery, api: Type.Optional(Type.String({ maxLength: 253 })) }),
        response: { 200: Page(PendingApproval) },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request, "approve");
      requireApprover(principal);
      const { page, pageSize, offset } = paging(request.query);
      const admin = isAdmin(principal.user, groups);
      let query = ctx.db
        .selectFrom("subscriptions as s")
        .innerJoin("plans as p", (j) =>
          j.onRef("p.namespace", "=", "s.namespace").onRef("p.name", "=", "s.plan_name"),
        )
        .innerJoin("apis as a", (j) =>
          j.onRef("a.namespace", "=", "s.namespace").onRef("a.name", "=", "s.api_name"),
        )
        .leftJoin("clients as c", (j) =>
          j.onRef("c.namespace", "=", "s.namespace").onRef("c.name", "=", "s.client_name"),
        )
        .where("s.namespace", "=", ctx.kube.namespace)
        .where("s.approved", "is", null)
        .where("p.requires_approval", "=", true)
        // Their own subscriptions are someone else's to decide (isOwnSubscription).
        .where(sql<string>`coalesce(lower(s.owner), '')`, "!=", principal.user.email.toLowerCase());
      if (!admin) {
        query = query.where(
          sql<boolean>`(a.required_group IS NULL OR a.required_group = ANY(${sql.val(principal.user.groups)}::text[]))`,
        );
      }
      if (request.query.api) query = query.where("s.api_name", "=", request.query.api);
      const [rows, count] = await Promise.all([
        query
          .select([
            "s.name",
            "s.client_name",
            "s.api_name",
            "s.plan_name",
            "s.phase",
            "s.owner",
            "s.updated_at",
            "a.display_name as api_display_name",
            "p.display_name as plan_display_name",
            "c.display_name as application_display_name",
          ])
          .orderBy("s.updated_at")
          .limit(pageSize)
          .offset(offset)
          .execute(),
        query.select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow(),
      ]);
      return {
        items: rows.map((r) => ({
          name: r.name,
          application: r.client_name,
          api: r.api_name,
          plan: r.plan_name,
          phase: r.phase,
          approval: "Pending" as const,
          credentialsReady: false,
          owner: r.owner,
          applicationDisplayName: r.application_display_name ?? r.client_name,
          apiDisplayName: r.api_display_name,
          planDisplayName: r.plan_display_name,
          requestedAt: r.updated_at.toISOString(),
        })),
        page,
        pageSize,
        total: Number(count.n),
      };
    },
  );

  /** Whether the approver asked for the subscription or has a role on its application (four eyes). */
  async function isOwnSubscription(principal: Principal, subscription: Subscription): Promise<boolean> {
    const requester = subscription.metadata.annotations?.[OWNER_EMAIL_ANNOTATION];
    if (requester?.toLowerCase() === principal.user.email.toLowerCase()) return true;
    const client = await ctx.kube.get<ApiClient>("apiclients", subscription.spec.clientRef.name);
    const role = client ? applicationRole(principal.user, client.spec) : undefined;
    return role === "Owner" || role === "Collaborator";
  }

  async function decide(
    principal: Principal,
    name: string,
    decision: "Approved" | "Rejected",
    reason: string | undefined,
  ): Promise<Subscription> {
    requireApprover(principal);
    const subscription = await ctx.kube.get<Subscription>("subscriptions", name);
    if (!subscription) throw notFound("subscription", name);
    const apiName = subscription.spec.apiRef.name;
    const api = await ctx.db
      .selectFrom("apis")
      .select(["required_group"])
      .where("namespace", "=", ctx.kube.namespace)
      .where("name", "=", apiName)
      .executeTakeFirst();
    if (!api) throw notFound("Api", apiName);
    if (!canApprove(principal.user, api.required_group, groups)) {
      throw forbidden(
        "not-an-approver",
        `Subscriptions to "${apiName}" are approved by approvers in the group "${api.required_group}", which you are not in.`,
      );
    }
    if (decision === "Approved" && (await isOwnSubscription(principal, subscription))) {
      throw forbidden(
        "self-approval",
        `The subscription "${name}" is of your own application; another approver decides on it.`,
      );
    }
    const current = currentDecision(subscription.spec);
    if (current === "Rejected") {
      throw conflict("already-rejected", `The subscription "${name}" was rejected; a rejection is final.`);
    }
    if (current === decision) return subscription;
    const approval = {
      decision,
      decidedBy: principal.user.email,
      plan: subscription.spec.planRef.name,
      ...(reason ? { reason } : {}),
    };
    const patched = await ctx.kube.mergePatch<Subscription>("subscriptions", name, { spec: { approval } });
    await audit(ctx.db, ctx, {
      actor: principal.user.id,
      action: decision === "Approved" ? "subscription.approve" : "subscription.reject",
      targetKind: "Subscription",
      targetName: name,
      details: {
        api: apiName,
        plan: subscription.spec.planRef.name,
        application: subscription.spec.clientRef.name,
        decidedBy: principal.user.email,
        reason: reason ?? null,
      },
    });
    return patched;
  }

  app.post(
    "/approvals/:name/approve",
    {
      schema: {
        operationId: "approveSubscription",
        tags: ["approvals"],
        summary: "Approve a subscription.",
        security: Security.bearer,
        params: NameParam,
        response: { 200: SubscriptionSchema },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request, "approve");
      const decided = await decide(principal, request.params.name, "Approved", undefined);
      request.log.info({ subscription: request.params.name }, "Approved Subscription");
      return subscriptionFromResource(decided);
    },
  );

  app.post(
    "/approvals/:name/reject",
    {
      schema: {
        operationId: "rejectSubscription",
        tags: ["approvals"],
        summary: "Reject a subscription; the reason is shown to the developer.",
        security: Security.bearer,
        params: NameParam,
        body: Type.Object(
          { reason: Type.String({ minLength: 1, maxLength: 1000 }) },
          { additionalProperties: false },
        ),
        response: { 200: SubscriptionSchema },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request, "approve");
      const decided = await decide(principal, request.params.name, "Rejected", request.body.reason);
      request.log.info({ subscription: request.params.name }, "Rejected Subscription");
      return subscriptionFromResource(decided);
    },
  );
}
