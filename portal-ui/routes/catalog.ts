/** The public routes: home, content pages, the catalog, an Api's page and its "try it". */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ApiProblem } from "../api-client.ts";
import type { ApiDetail, Application, AuthType, Subscription } from "../api-types.ts";
import { buildReference, findOperation, type Json } from "../openapi/model.ts";
import type { TryItCredential } from "../openapi/render.ts";
import { buildTryItRequest, sendTryIt, TryItError, type TryItResult } from "../openapi/try-it.ts";
import { readSession, type Session } from "../session.ts";
import {
  attempt,
  formValue,
  pageContext,
  pageNumber,
  queryValue,
  requireSession,
  sendPage,
  type UiContext,
} from "../ui-context.ts";
import { apiPage, type SubscribeBox } from "../views/api.ts";
import { catalogPage, contentPage, errorPage, homePage } from "../views/public.ts";

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** The catalog's authentication filter: the values of GET /apis?auth=. */
const AUTH_TYPES: readonly AuthType[] = ["key-auth", "oauth2", "none"];

/** The routes of the public pages. */
export async function catalogRoutes(app: FastifyInstance, ui: UiContext): Promise<void> {
  app.get("/", async (request, reply) => {
    const session = readSession(request);
    const result = await attempt(() => ui.api.apis(session?.accessToken, { pageSize: 6 }));
    const ctx = pageContext(ui, request, reply);
    return sendPage(
      reply,
      homePage(ctx, result.ok ? result.value : undefined, result.ok ? undefined : result.problem),
    );
  });

  app.get<{ Params: { slug: string } }>("/pages/:slug", async (request, reply) => {
    const page = ui.config.contentPages.find((p) => p.slug === request.params.slug);
    const ctx = pageContext(ui, request, reply);
    if (!page)
      return sendPage(
        reply,
        errorPage(ctx, 404, "Page not found", "There is no such page on this portal."),
        404,
      );
    if (!page.markdown && page.configMapRef) {
      request.log.warn(
        { page: page.slug, configMap: page.configMapRef.name },
        "Content page kept in a ConfigMap cannot be shown",
      );
    }
    return sendPage(reply, contentPage(ctx, page.title, page.markdown));
  });

  app.get("/apis", async (request, reply) => {
    const session = readSession(request);
    const auth = queryValue(request, "auth");
    const filters = {
      q: queryValue(request, "q").slice(0, 100) || undefined,
      tag: queryValue(request, "tag").slice(0, 100) || undefined,
      auth: AUTH_TYPES.find((type) => type === auth),
      page: pageNumber(request),
    };
    const token = session?.accessToken;
    const [result, all] = await Promise.all([
      attempt(() =>
        ui.api.apis(token, {
          q: filters.q,
          tag: filters.tag,
          auth: filters.auth,
          page: filters.page,
          pageSize: 12,
        }),
      ),
      attempt(() => ui.api.apis(token, { pageSize: 100 })),
    ]);
    const tags = all.ok ? [...new Set(all.value.items.flatMap((a) => a.tags))].sort() : [];
    const ctx = pageContext(ui, request, reply);
    return sendPage(
      reply,
      catalogPage(
        ctx,
        filters,
        result.ok ? result.value : undefined,
        tags,
        result.ok ? undefined : result.problem,
      ),
    );
  });

  /** Renders an Api's page, with the subscribe box and the reference (and a try-it answer). */
  async function renderApi(
    request: FastifyRequest,
    reply: FastifyReply,
    name: string,
    session: Session | undefined,
    extra: {
      box?: Partial<SubscribeBox>;
      result?: {
        operationId: string;
        result?: TryItResult;
        error?: string;
        values: Record<string, string | undefined>;
      };
    } = {},
  ): Promise<FastifyReply> {
    const token = session?.accessToken;
    let api: ApiDetail;
    try {
      api = await ui.api.api(token, name);
    } catch (err) {
      if (err instanceof ApiProblem && err.status === 404) {
        const ctx = pageContext(ui, request, reply);
        return sendPage(
          reply,
          errorPage(
            ctx,
            404,
            "API not found",
            session ? err.message : `${err.message} Log in if it is restricted to your group.`,
          ),
          404,
        );
      }
      throw err;
    }
    const [doc, apps, subs] = await Promise.all([
      api.hasOpenApi ? attempt(() => ui.api.openApi(token, name)) : Promise.resolve(undefined),
      session
        ? attempt(() => ui.api.applications(session.accessToken, { pageSize: 100 }))
        : Promise.resolve(undefined),
      session
        ? attempt(() => ui.api.subscriptions(session.accessToken, { api: name, pageSize: 100 }))
        : Promise.resolve(undefined),
    ]);
    const applications: Application[] | undefined = apps?.ok ? apps.value.items : session ? [] : undefined;
    const subscriptions: Subscription[] = subs?.ok ? subs.value.items : [];
    const credentials: TryItCredential[] = subscriptions
      .filter((s) => s.phase === "Active" && s.credentialsReady)
      .map((s) => ({
        subscription: s.name,
        label: `Use ${applications?.find((a) => a.name === s.application)?.displayName ?? s.application}'s credentials`,
      }));
    const box: SubscribeBox = {
      subscribed: new Set(subscriptions.map((s) => s.application)),
      ...(applications ? { applications } : {}),
      ...extra.box,
    };
    const reference =
      doc === undefined
        ? {}
        : doc.ok
          ? {
              reference: buildReference(doc.value as Json),
              doc: doc.value as Json,
              options: {
                loggedIn: Boolean(session),
                credentials,
                ...(extra.result ? { result: extra.result } : {}),
              },
            }
          : { problem: doc.problem };
    const ctx = pageContext(ui, request, reply);
    return sendPage(reply, apiPage(ctx, api, box, reference));
  }

  app.get<{ Params: { name: string } }>("/apis/:name", async (request, reply) => {
    if (!NAME.test(request.params.name)) {
      return sendPage(
        reply,
        errorPage(pageContext(ui, request, reply), 404, "API not found", "There is no such API."),
        404,
      );
    }
    return renderApi(request, reply, request.params.name, readSession(request));
  });

  app.post<{ Params: { name: string } }>("/apis/:name/try", async (request, reply) => {
    const name = request.params.name;
    if (!NAME.test(name)) return reply.code(404).send();
    const session = await requireSession(ui, request, reply);
    if (!session) return reply;
    const body = (request.body ?? {}) as Record<string, unknown>;
    const operationId = formValue(body, "operation");
    const values: Record<string, string | undefined> = {};
    for (const key of Object.keys(body))
      if (key !== "secret" && key !== "_csrf") values[key] = formValue(body, key);
    const docResult = await attempt(() => ui.api.openApi(session.accessToken, name));
    const apiResult = await attempt(() => ui.api.api(session.accessToken, name));
    if (!docResult.ok || !apiResult.ok) return renderApi(request, reply, name, session);
    const reference = buildReference(docResult.value as Json);
    const op = findOperation(reference, operationId);
    if (!op) return renderApi(request, reply, name, session);
    const outcome = await tryOperation(session, apiResult.value, reference.security, op, body);
    return renderApi(request, reply, name, session, { result: { operationId, values, ...outcome } });
  });

  /** Builds and sends the request of a try-it form. */
  async function tryOperation(
    session: Session,
    api: ApiDetail,
    security: ReturnType<typeof buildReference>["security"],
    op: NonNullable<ReturnType<typeof findOperation>>,
    body: Record<string, unknown>,
  ): Promise<{ result?: TryItResult; error?: string }> {
    let secret = formValue(body, "secret").trim();
    const credential = formValue(body, "credential");
    let header: string | undefined;
    if (security.type === "apiKey") header = security.header;
    if (security.type === "oauth2") header = "Authorization";
    if (header && !secret && credential) {
      const creds = await attempt(() => ui.api.credentials(session.accessToken, credential));
      if (!creds.ok) return { error: creds.problem.message };
      if (creds.value.type === "key-auth") {
        secret = creds.value.apiKey ?? "";
      } else {
        const token = await clientCredentialsToken(
          creds.value.tokenUrl,
          creds.value.clientId,
          creds.value.clientSecret,
        );
        if ("error" in token) return { error: token.error };
        secret = token.accessToken;
      }
    }
    const form: Record<string, string> = {};
    for (const key of Object.keys(body)) form[key] = formValue(body, key);
    try {
      const auth =
        header && secret
          ? {
              header,
              value: header === "Authorization" && !/^bearer /i.test(secret) ? `Bearer ${secret}` : secret,
            }
          : undefined;
      const target = { baseUrl: api.baseUrl, gatewayUrl: ui.config.urls.gateway };
      const tryRequest = buildTryItRequest(target, op, form, auth);
      return { result: await sendTryIt(tryRequest, header, ui.fetch) };
    } catch (err) {
      if (err instanceof TryItError) return { error: err.message };
      throw err;
    }
  }

  /** An access token for an OAuth2 subscription's client (client_credentials), for trying its Api. */
  async function clientCredentialsToken(
    tokenUrl: string | undefined,
    clientId: string | undefined,
    clientSecret: string | undefined,
  ): Promise<{ accessToken: string } | { error: string }> {
    if (!tokenUrl || !clientId || !clientSecret) {
      return {
        error:
          "This application cannot get tokens by itself (no client secret); paste an access token instead.",
      };
    }
    try {
      const response = await ui.fetch(tokenUrl, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          Authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString("base64")}`,
        },
        body: new URLSearchParams({ grant_type: "client_credentials" }).toString(),
        signal: AbortSignal.timeout(10_000),
      });
      const json = (await response.json().catch(() => ({}))) as {
        access_token?: string;
        error_description?: string;
        error?: string;
      };
      if (!response.ok || !json.access_token) {
        return {
          error: `The auth server gave no token (${json.error_description ?? json.error ?? response.status}).`,
        };
      }
      return { accessToken: json.access_token };
    } catch (err) {
      return { error: `The auth server cannot be reached (${(err as Error).message}).` };
    }
  }
}
