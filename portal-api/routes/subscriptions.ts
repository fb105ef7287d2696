/**
 * Subscriptions: an application's access to an Api under a plan, stored as Subscription resources. Owners
 * and collaborators of the application subscribe, read the credentials the operator issued into the
 * Secret named in the Subscription's status, request a rotation, and unsubscribe.
 */
import { Type } from "typebox";
import type { ApiSpec, Subscription } from "../../api/v1alpha1/index.ts";
import { DEFAULT_KEY_HEADER } from "../../api/v1alpha1/index.ts";
import { appendOutbox } from "../../db/outbox.ts";
import { preparedQuery } from "../../db/prepared.ts";
import { secretGrantProblem } from "../../operator/subscription/credentials.ts";
import { audit, type PortalApp, type PortalContext, requirePrincipal } from "../context.ts";
import { canSee, type Principal } from "../permissions.ts";
import { badRequest, conflict, forbidden, notFound } from "../problems.ts";
import { subscriptionResource } from "../resources.ts";
import { NameParam, Page, PageQuery, paging, Security, SubscriptionSchema } from "../schemas.ts";
import { subscriptionFromResource, subscriptionFromRow } from "../views.ts";
import { applicationFor, hasRoleOnClientAs } from "./applications.ts";

const Credentials = Type.Object(
  {
    subscription: Type.String(),
    type: Type.Union([Type.Literal("key-auth"), Type.Literal("oauth2")]),
    apiKey: Type.Optional(Type.String({ description: "key-auth: send it in the Api's key header." })),
    keyHeader: Type.Optional(Type.String()),
    clientId: Type.Optional(
      Type.String({ description: "oauth2: the client id at the portal's auth server." }),
    ),
    clientSecret: Type.Optional(Type.String()),
    tokenUrl: Type.Optional(Type.String()),
    apiUrl: Type.Optional(Type.String()),
    issuedAt: Type.Optional(Type.String({ format: "date-time" })),
  },
  {
    description: "Credentials of a subscription; only owners and collaborators of its application read them.",
  },
);

/** A subscription with the application it belongs to, after checking the caller's role on it. */
async function subscriptionFor(
  ctx: PortalContext,
  principal: Principal,
  name: string,
  action: "view" | "subscribe",
): Promise<Subscription> {
  const subscription = await ctx.kube.get<Subscription>("subscriptions", name);
  if (!subscription) throw notFound("subscription", name);
  try {
    await applicationFor(ctx, principal, subscription.spec.clientRef.name, action);
  } catch (err) {
    // Someone else's subscription: do not say that it exists.
    if (err instanceof Error && "status" in err && err.status === 404) throw notFound("subscription", name);
    throw err;
  }
  return subscription;
}

/** The values of a page of the caller's subscriptions; which filters apply is the query's shape. */
interface ListValues extends Record<string, unknown> {
  namespace: string;
  me: string;
  application: string;
  api: string;
  phase: string;
  limit: number;
  offset: number;
}

/** The routes under /subscriptions. */
export async function subscriptionRoutes(app: PortalApp, ctx: PortalContext): Promise<void> {
  const listRows = preparedQuery<ListValues>();
  const listCount = preparedQuery<ListValues>();

  app.get(
    "/subscriptions",
    {
      schema: {
        operationId: "listSubscriptions",
        tags: ["subscriptions"],
        summary: "List the subscriptions of your applications.",
        security: Security.bearer,
        querystring: Type.Object({
          ...PageQuery,
          application: Type.Optional(Type.String({ maxLength: 253 })),
          api: Type.Optional(Type.String({ maxLength: 253 })),
          phase: Type.Optional(Type.String({ maxLength: 32 })),
        }),
        response: { 200: Page(SubscriptionSchema) },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request, "read");
      const { page, pageSize, offset } = paging(request.query);
      const { application, api, phase } = request.query;
      const values: ListValues = {
        namespace: ctx.kube.namespace,
        me: principal.user.email.toLowerCase(),
        application: application ?? "",
        api: api ?? "",
        phase: phase ?? "",
        limit: pageSize,
        offset,
      };
      const shape = [Boolean(application), Boolean(api), Boolean(phase)].join();
      const filtered = (v: ListValues) => {
        let query = ctx.db
          .selectFrom("subscriptions")
          .where("subscriptions.namespace", "=", v.namespace)
          .where((eb) =>
            eb.exists(
              eb
                .selectFrom("clients")
                .select("clients.uid")
                .whereRef("clients.namespace", "=", "subscriptions.namespace")
                .whereRef("clients.name", "=", "subscriptions.client_name")
                .where(hasRoleOnClientAs(v.me)),
            ),
          );
        if (application) query = query.where("subscriptions.client_name", "=", v.application);
        if (api) query = query.where("subscriptions.api_name", "=", v.api);
        if (phase) query = query.where("subscriptions.phase", "=", v.phase);
        return query;
      };
      const [{ rows }, { rows: counted }] = await Promise.all([
        ctx.db.executeQuery(
          listRows(shape, values, (v) =>
            filtered(v)
              .selectAll("subscriptions")
              .orderBy("subscriptions.name")
              .limit(v.limit)
              .offset(v.offset),
          ),
        ),
        ctx.db.executeQuery(
          listCount(shape, values, (v) => filtered(v).select((eb) => eb.fn.countAll<string>().as("n"))),
        ),
      ]);
      const count = counted[0] ?? { n: "0" };
      return { items: rows.map(subscriptionFromRow), page, pageSize, total: Number(count.n) };
    },
  );

  app.post(
    "/subscriptions",
    {
      schema: {
        operationId: "createSubscription",
        tags: ["subscriptions"],
        summary: "Subscribe an application to an Api under a plan.",
        security: Security.bearer,
        body: Type.Object(
          {
            application: Type.String({ minLength: 1, maxLength: 253 }),
            api: Type.String({ minLength: 1, maxLength: 253 }),
            plan: Type.String({ minLength: 1, maxLength: 253 }),
          },
          { additionalProperties: false },
        ),
        response: { 201: SubscriptionSchema },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request, "write");
      const { application, api, plan } = request.body;
      const { resource: client } = await applicationFor(ctx, principal, application, "subscribe");
      const groups = ctx.config.groups;
      const apiRow = await ctx.db
        .selectFrom("apis")
        .selectAll()
        .where("namespace", "=", ctx.kube.namespace)
        .where("name", "=", api)
        .executeTakeFirst();
      if (!apiRow || !canSee(principal.user, apiRow.required_group, groups)) throw notFound("Api", api);
      if (apiRow.auth === "none") {
        throw badRequest("open-api", `The Api "${api}" is open to everyone; call it without subscribing.`);
      }
      if (apiRow.deprecated) {
        throw conflict("api-deprecated", `The Api "${api}" is deprecated and takes no new subscriptions.`);
      }
      if (!apiRow.plans.includes(plan)) {
        throw badRequest(
          "unknown-plan",
          `The Api "${api}" offers the plans ${apiRow.plans.join(", ")}; choose one of them.`,
        );
      }
      const planRow = await ctx.db
        .selectFrom("plans")
        .select(["required_group"])
        .where("namespace", "=", ctx.kube.namespace)
        .where("name", "=", plan)
        .executeTakeFirst();
      if (!planRow) throw notFound("plan", plan);
      if (!canSee(principal.user, planRow.required_group, groups)) {
        throw forbidden(
          "plan-restricted",
          `The plan "${plan}" is only for members of the group "${planRow.required_group}".`,
        );
      }
      const spec = apiRow.spec as unknown as ApiSpec;
      const flows = spec.auth?.flows ?? ["authorization_code", "client_credentials"];
      if (
        apiRow.auth === "oauth2" &&
        client.spec.clientType === "public" &&
        !flows.includes("authorization_code")
      ) {
        throw badRequest(
          "flow-not-allowed",
          `The Api "${api}" only allows client_credentials, which needs a confidential application; "${application}" is public.`,
        );
      }
      const user = principal.user;
      const desired = subscriptionResource(ctx.config.portal, user, { application, api, plan });
      const name = desired.metadata.name ?? "";
      if (await ctx.kube.get("subscriptions", name)) {
        throw conflict(
          "already-subscribed",
          `The application "${application}" is already subscribed to "${api}".`,
        );
      }
      const created = await ctx.kube.create("subscriptions", desired);
      request.log.info({ subscription: name, api, plan }, "Created Subscription");
      await ctx.db.transaction().execute(async (trx) => {
        await appendOutbox(trx, {
          type: "SubscriptionAdded",
          namespace: ctx.kube.namespace,
          subscription: name,
          application,
          api,
          plan,
          userId: user.id,
          email: user.email,
          displayName: user.displayName,
        });
        await audit(trx, ctx, {
          actor: user.id,
          action: "subscription.create",
          targetKind: "Subscription",
          targetName: name,
          details: { application, api, plan },
        });
      });
      return reply
        .code(201)
        .header("Location", `/subscriptions/${name}`)
        .send(subscriptionFromResource(created));
    },
  );

  app.get(
    "/subscriptions/:name",
    {
      schema: {
        operationId: "getSubscription",
        tags: ["subscriptions"],
        summary: "Read a subscription.",
        security: Security.bearer,
        params: NameParam,
        response: { 200: SubscriptionSchema },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request, "read");
      return subscriptionFromResource(await subscriptionFor(ctx, principal, request.params.name, "view"));
    },
  );

  app.get(
    "/subscriptions/:name/credentials",
    {
      schema: {
        operationId: "getSubscriptionCredentials",
        tags: ["subscriptions"],
        summary: "Read a subscription's credentials (owners and collaborators of its application).",
        security: Security.bearer,
        params: NameParam,
        response: { 200: Credentials },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request, "write");
      const subscription = await subscriptionFor(ctx, principal, request.params.name, "subscribe");
      const secretName = subscription.status?.credentialsSecret;
      const secret = secretName ? await ctx.kube.readSecret(secretName) : undefined;
      if (!secret) {
        const phase = subscription.status?.phase ?? "Pending";
        throw conflict(
          "credentials-not-ready",
          `The credentials are not issued yet (the subscription is ${phase}); try again once it is Active.`,
        );
      }
      // Served only from a Secret granted to this subscription: status could name another one's.
      const notGranted = secretGrantProblem(subscription, secret);
      if (notGranted) {
        request.log.warn({ subscription: request.params.name, secret: secretName }, `Secret ${notGranted}`);
        throw conflict(
          "credentials-not-granted",
          "The Secret that should hold this subscription's credentials is not granted to it, so the portal does not show it; ask the platform team to check the Subscription's CredentialsReady condition.",
        );
      }
      const data = secret.data;
      const apiRow = await ctx.db
        .selectFrom("apis")
        .select(["auth", "spec"])
        .where("namespace", "=", ctx.kube.namespace)
        .where("name", "=", subscription.spec.apiRef.name)
        .executeTakeFirst();
      await audit(ctx.db, ctx, {
        actor: principal.user.id,
        action: "subscription.credentials.read",
        targetKind: "Subscription",
        targetName: request.params.name,
      });
      const oauth = data.clientId !== undefined || apiRow?.auth === "oauth2";
      // The operator writes the header the gateway checks into the Secret; older Secrets lack it.
      const keyHeader =
        (data.keyHeader || (apiRow?.spec as unknown as ApiSpec | undefined)?.auth?.keyHeader) ??
        DEFAULT_KEY_HEADER;
      reply.header("Cache-Control", "no-store");
      return {
        subscription: request.params.name,
        type: oauth ? ("oauth2" as const) : ("key-auth" as const),
        apiKey: data.apiKey,
        keyHeader: oauth ? undefined : keyHeader,
        clientId: data.clientId,
        clientSecret: data.clientSecret,
        tokenUrl: data.tokenUrl ?? (oauth ? ctx.authEndpoints.token : undefined),
        apiUrl: data.apiUrl,
        issuedAt: subscription.status?.credentialsIssuedAt,
      };
    },
  );

  app.post(
    "/subscriptions/:name/rotate",
    {
      schema: {
        operationId: "rotateSubscriptionCredentials",
        tags: ["subscriptions"],
        summary: "Request new credentials; the operator issues them and the old ones stop working.",
        security: Security.bearer,
        params: NameParam,
        response: { 202: SubscriptionSchema },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request, "write");
      const subscription = await subscriptionFor(ctx, principal, request.params.name, "subscribe");
      if (subscription.spec.credentials?.secretRef) {
        throw conflict(
          "credentials-not-generated",
          "This subscription uses credentials from its own Secret; rotate them by changing that Secret.",
        );
      }
      const requestedAt = ctx.clock().toISOString();
      const patched = await ctx.kube.mergePatch<Subscription>("subscriptions", request.params.name, {
        spec: { credentials: { rotation: { requestedAt } } },
      });
      const user = principal.user;
      await ctx.db.transaction().execute(async (trx) => {
        await appendOutbox(trx, {
          type: "CredentialsRotated",
          namespace: ctx.kube.namespace,
          subscription: request.params.name,
          api: subscription.spec.apiRef.name,
          userId: user.id,
          email: user.email,
          displayName: user.displayName,
        });
        await audit(trx, ctx, {
          actor: user.id,
          action: "subscription.rotate",
          targetKind: "Subscription",
          targetName: request.params.name,
          details: { requestedAt },
        });
      });
      request.log.info({ subscription: request.params.name }, "Requested Subscription credentials rotation");
      return reply.code(202).send(subscriptionFromResource(patched));
    },
  );

  app.delete(
    "/subscriptions/:name",
    {
      schema: {
        operationId: "deleteSubscription",
        tags: ["subscriptions"],
        summary: "Unsubscribe; the credentials stop working.",
        security: Security.bearer,
        params: NameParam,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request, "write");
      const subscription = await subscriptionFor(ctx, principal, request.params.name, "subscribe");
      await ctx.kube.delete("subscriptions", request.params.name);
      const user = principal.user;
      await ctx.db.transaction().execute(async (trx) => {
        await appendOutbox(trx, {
          type: "SubscriptionDeleted",
          namespace: ctx.kube.namespace,
          subscription: request.params.name,
          application: subscription.spec.clientRef.name,
          api: subscription.spec.apiRef.name,
          plan: subscription.spec.planRef.name,
          userId: user.id,
          email: user.email,
          displayName: user.displayName,
        });
        await audit(trx, ctx, {
          actor: user.id,
          action: "subscription.delete",
          targetKind: "Subscription",
          targetName: request.params.name,
        });
      });
      request.log.info({ subscription: request.params.name }, "Deleted Subscription");
      return reply.code(204).send(null);
    },
  );
}
