/**
 * The catalog: the Apis of the portal that the caller may see (anonymous visitors see the Apis without a
 * required group), their plans, and their OpenAPI documents rewritten for the gateway. Read from the
 * operator's read model.
 */
import { sql } from "kysely";
import { Type } from "typebox";
import type { ApiSpec } from "../../api/v1alpha1/index.ts";
import { preparedQuery } from "../../db/prepared.ts";
import type { PortalApp, PortalContext } from "../context.ts";
import { type OpenApiDocuments, OpenApiFetchError, openApiDocuments } from "../openapi-fetch.ts";
import { apiBaseUrl, OpenApiDocumentError, parseOpenApi, rewriteOpenApi } from "../openapi-rewrite.ts";
import { canSee, isAdmin, type PortalUser } from "../permissions.ts";
import { HttpProblem, notFound } from "../problems.ts";
import { NameParam, Page, PageQuery, paging, Security } from "../schemas.ts";

const AuthType = Type.Union([Type.Literal("key-auth"), Type.Literal("oauth2"), Type.Literal("none")]);

const ApiSummary = Type.Object({
  name: Type.String(),
  displayName: Type.String(),
  description: Type.String({ description: "Markdown." }),
  auth: AuthType,
  tags: Type.Array(Type.String()),
  deprecated: Type.Boolean(),
  requiredGroup: Type.Union([Type.String(), Type.Null()]),
  plans: Type.Array(Type.String()),
});

const PlanView = Type.Object({
  name: Type.String(),
  displayName: Type.String(),
  description: Type.String(),
  requiresApproval: Type.Boolean(),
  limits: Type.Object({
    second: Type.Optional(Type.Number()),
    minute: Type.Optional(Type.Number()),
    hour: Type.Optional(Type.Number()),
    day: Type.Optional(Type.Number()),
    month: Type.Optional(Type.Number()),
  }),
});

const ApiDetail = Type.Object({
  ...ApiSummary.properties,
  baseUrl: Type.String({ description: "Where clients call the Api on the gateway." }),
  scopes: Type.Array(Type.Object({ name: Type.String(), description: Type.Optional(Type.String()) })),
  flows: Type.Array(Type.String()),
  planDetails: Type.Array(PlanView),
  hasOpenApi: Type.Boolean(),
  deprecation: Type.Optional(
    Type.Object({
      since: Type.Optional(Type.String()),
      sunset: Type.Optional(Type.String()),
      message: Type.Optional(Type.String()),
    }),
  ),
});

/** The routes under /apis. */
export async function catalogRoutes(app: PortalApp, ctx: PortalContext): Promise<void> {
  const groups = ctx.config.groups;
  const documents = openApiDocuments();

  function visible(admin: boolean, mine: string[]) {
    if (admin) return sql<boolean>`true`;
    return sql<boolean>`(apis.required_group IS NULL OR apis.required_group = ANY(${sql.val(mine)}::text[]))`;
  }

  /** The values of a catalog page's queries; which filters apply is the query's shape. */
  interface ListValues extends Record<string, unknown> {
    namespace: string;
    groups: string[];
    like: string;
    tag: string;
    auth: string;
    deprecated: boolean;
    limit: number;
    offset: number;
  }
  const listRows = preparedQuery<ListValues>();
  const listCount = preparedQuery<ListValues>();

  async function apiFor(user: PortalUser | null, name: string) {
    const row = await ctx.db
      .selectFrom("apis")
      .selectAll()
      .where("namespace", "=", ctx.kube.namespace)
      .where("name", "=", name)
      .executeTakeFirst();
    if (!row || !canSee(user, row.required_group, groups)) throw notFound("Api", name);
    return row;
  }

  app.get(
    "/apis",
    {
      schema: {
        operationId: "listApis",
        tags: ["catalog"],
        summary: "List the Apis you can see.",
        security: Security.optionalBearer,
        querystring: Type.Object({
          ...PageQuery,
          q: Type.Optional(
            Type.String({ maxLength: 100, description: "Text in the name, title or description." }),
          ),
          tag: Type.Optional(Type.String({ maxLength: 100 })),
          auth: Type.Optional(AuthType),
          deprecated: Type.Optional(Type.Boolean()),
        }),
        response: { 200: Page(ApiSummary) },
      },
    },
    async (request) => {
      const user = request.principal?.user ?? null;
      const { page, pageSize, offset } = paging(request.query);
      const { q, tag, auth, deprecated } = request.query;
      const admin = user !== null && isAdmin(user, groups);
      const values: ListValues = {
        namespace: ctx.kube.namespace,
        groups: user?.groups ?? [],
        like: q ? `%${q.replace(/[\\%_]/g, "\\$&")}%` : "",
        tag: tag ?? "",
        auth: auth ?? "",
        deprecated: deprecated ?? false,
        limit: pageSize,
        offset,
      };
      const shape = [admin, Boolean(q), Boolean(tag), Boolean(auth), deprecated !== undefined].join();
      const filtered = (v: ListValues) => {
        let query = ctx.db
          .selectFrom("apis")
          .where("namespace", "=", v.namespace)
          .where(visible(admin, v.groups));
        if (q) {
          query = query.where((eb) =>
            eb.or([
              eb("name", "ilike", v.like),
              eb("display_name", "ilike", v.like),
              eb("description", "ilike", v.like),
            ]),
          );
        }
        if (tag) query = query.where(sql<boolean>`${v.tag} = ANY(apis.tags)`);
        if (auth) query = query.where("auth", "=", v.auth as "key-auth" | "oauth2" | "none");
        if (deprecated !== undefined) query = query.where("deprecated", "=", v.deprecated);
        return query;
      };
      const [{ rows }, { rows: counted }] = await Promise.all([
        ctx.db.executeQuery(
          listRows(shape, values, (v) =>
            filtered(v).selectAll().orderBy("display_name").orderBy("name").limit(v.limit).offset(v.offset),
          ),
        ),
        ctx.db.executeQuery(
          listCount(shape, values, (v) => filtered(v).select((eb) => eb.fn.countAll<string>().as("n"))),
        ),
      ]);
      const count = counted[0] ?? { n: "0" };
      return {
        items: rows.map((r) => ({
          name: r.name,
          displayName: r.display_name,
          description: r.description,
          auth: r.auth,
          tags: r.tags,
          deprecated: r.deprecated,
          requiredGroup: r.required_group,
          plans: r.plans,
        })),
        page,
        pageSize,
        total: Number(count.n),
      };
    },
  );

  app.get(
    "/apis/:name",
    {
      schema: {
        operationId: "getApi",
        tags: ["catalog"],
        summary: "Read an Api with its plans.",
        security: Security.optionalBearer,
        params: NameParam,
        response: { 200: ApiDetail },
      },
    },
    async (request) => {
      const user = request.principal?.user ?? null;
      const row = await apiFor(user, request.params.name);
      const spec = row.spec as unknown as ApiSpec;
      const plans =
        row.plans.length === 0
          ? []
          : await ctx.db
              .selectFrom("plans")
              .selectAll()
              .where("namespace", "=", ctx.kube.namespace)
              .where("name", "in", row.plans)
              .orderBy("name")
              .execute();
      const detail = {
        name: row.name,
        displayName: row.display_name,
        description: row.description,
        auth: row.auth,
        tags: row.tags,
        deprecated: row.deprecated,
        requiredGroup: row.required_group,
        plans: row.plans,
        baseUrl: apiBaseUrl(spec, ctx.config.urls.gateway),
        scopes: spec.auth?.scopes ?? [],
        flows:
          row.auth === "oauth2" ? (spec.auth?.flows ?? ["authorization_code", "client_credentials"]) : [],
        planDetails: plans
          .filter((p) => canSee(user, p.required_group, groups))
          .map((p) => ({
            name: p.name,
            displayName: p.display_name,
            description: p.description,
            requiresApproval: p.requires_approval,
            limits: p.limits,
          })),
        hasOpenApi: spec.openApi !== undefined,
        deprecation: spec.deprecation,
      };
      return detail;
    },
  );

  app.get(
    "/apis/:name/openapi",
    {
      schema: {
        operationId: "getApiOpenApi",
        tags: ["catalog"],
        summary: "The Api's OpenAPI document, with the gateway as server and the gateway's authentication.",
        security: Security.optionalBearer,
        params: NameParam,
        response: { 200: Type.Object({}, { additionalProperties: true }) },
      },
    },
    async (request) => {
      const user = request.principal?.user ?? null;
      const row = await apiFor(user, request.params.name);
      const spec = row.spec as unknown as ApiSpec;
      try {
        const doc = await apiDocument(ctx, documents, spec, request.params.name);
        return rewriteOpenApi(doc, spec, {
          gatewayUrl: ctx.config.urls.gateway,
          tokenUrl: ctx.authEndpoints.token,
          authorizationUrl: ctx.authEndpoints.authorization,
        });
      } catch (err) {
        if (err instanceof OpenApiDocumentError) {
          throw new HttpProblem(422, "invalid-openapi-document", "Unprocessable content", err.message);
        }
        if (err instanceof OpenApiFetchError) {
          throw new HttpProblem(502, "openapi-document-unavailable", "Bad gateway", err.message);
        }
        throw err;
      }
    },
  );
}

/** The Api's document as written: inline, from its ConfigMap, or at its URL (fetched once for everyone). */
async function apiDocument(
  ctx: PortalContext,
  documents: OpenApiDocuments,
  spec: ApiSpec,
  name: string,
): Promise<Record<string, unknown>> {
  const source = spec.openApi;
  if (!source) throw notFound("OpenAPI document for the Api", name);
  if (source.inline !== undefined) return parseOpenApi(source.inline);
  if (source.configMapRef) {
    const data = await ctx.kube.readConfigMap(source.configMapRef.name);
    const text = data?.[source.configMapRef.key];
    if (text === undefined) {
      throw new HttpProblem(
        502,
        "openapi-document-missing",
        "Bad gateway",
        `The Api's OpenAPI document should be in key "${source.configMapRef.key}" of the ConfigMap "${source.configMapRef.name}", which does not have it.`,
      );
    }
    return parseOpenApi(text);
  }
  return documents.get(`${ctx.kube.namespace}/${name}`, source.url ?? "");
}
