/**
 * An Api's interactive docs: the page (GET /apis/:name/docs) that mounts Swagger UI, and the JSON its script
 * fetches (GET /apis/:name/docs.json): the OpenAPI document the portal API rewrote for the gateway, and the
 * visitor's own credentials to fill in. The credentials never appear in HTML; the JSON is never cached and
 * only carries credentials the visitor's token may read from the portal API.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ApiProblem } from "../api-client.ts";
import type { ApiDetail, Application, Subscription } from "../api-types.ts";
import {
  type CredentialCandidate,
  credentialCandidates,
  type DocsConfig,
  docsAuth,
} from "../openapi/docs-config.ts";
import type { Json } from "../openapi/model.ts";
import { apiDocsCspDirectives, cspHeader } from "../security.ts";
import { readSession, type Session } from "../session.ts";
import { attempt, pageContext, requireSession, sendPage, type UiContext } from "../ui-context.ts";
import { apiDocsPage, type DocsCredentialNote } from "../views/api-docs.ts";
import { errorPage } from "../views/public.ts";

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** How many subscriptions the docs try before giving up on filling in credentials. */
const MAX_CANDIDATES = 3;

/** The routes of the interactive docs. */
export async function apiDocsRoutes(app: FastifyInstance, ui: UiContext): Promise<void> {
  const portalBase = ui.config.urls.portal.replace(/\/+$/, "");

  /** The subscriptions of the visitor whose credentials could fill in the docs. */
  async function candidates(session: Session, name: string): Promise<CredentialCandidate[]> {
    const [subs, apps] = await Promise.all([
      attempt(() => ui.api.subscriptions(session.accessToken, { api: name, pageSize: 100 })),
      attempt(() => ui.api.applications(session.accessToken, { pageSize: 100 })),
    ]);
    const subscriptions: Subscription[] = subs.ok ? subs.value.items : [];
    const applications: Application[] = apps.ok ? apps.value.items : [];
    return credentialCandidates(subscriptions, applications);
  }

  app.get<{ Params: { name: string } }>("/apis/:name/docs", async (request, reply) => {
    const { name } = request.params;
    if (!NAME.test(name)) return notFound(request, reply, "There is no such API.");
    const stored = readSession(request);
    const session = stored ? await requireSession(ui, request, reply) : undefined;
    if (stored && !session) return reply;
    let api: ApiDetail;
    try {
      api = await ui.api.api(session?.accessToken, name);
    } catch (err) {
      if (err instanceof ApiProblem && err.status === 404)
        return notFound(
          request,
          reply,
          session ? err.message : `${err.message} Log in if it is restricted to your group.`,
        );
      throw err;
    }
    let note: DocsCredentialNote;
    if (api.auth === "none") note = { kind: "open" };
    else if (!session) note = { kind: "log-in" };
    else {
      const first = (await candidates(session, name))[0];
      note = first ? { kind: "filled", application: first.application } : { kind: "subscribe" };
    }
    // Swagger UI's "Try it out" may reach the gateway, never a host an Api's route names (as the server-side
    // "try it" in routes/catalog.ts); the CSP blocks it for Apis routed by host name.
    const connectTo = [ui.config.urls.gateway, ...(api.auth === "oauth2" ? [ui.config.urls.auth] : [])];
    reply.header("Content-Security-Policy", cspHeader(apiDocsCspDirectives(ui.config.urls, connectTo)));
    return sendPage(reply, apiDocsPage(pageContext(ui, request, reply), api, note));
  });

  app.get<{ Params: { name: string } }>("/apis/:name/docs.json", async (request, reply) => {
    const { name } = request.params;
    reply.header("Cache-Control", "no-store").header("Vary", "Cookie");
    if (!NAME.test(name)) return problem(reply, 404, "There is no such API.");
    // The docs page refreshed the session a moment ago; a session about to end counts as none here.
    const stored = readSession(request);
    const session = stored && stored.expiresAt - ui.now() > 30 ? stored : undefined;
    try {
      const config: DocsConfig = {
        spec: (await ui.api.openApi(session?.accessToken, name)) as Json,
        oauth2RedirectUrl: `${portalBase}/assets/swagger-ui/oauth2-redirect.html`,
      };
      if (session) {
        for (const candidate of (await candidates(session, name)).slice(0, MAX_CANDIDATES)) {
          const creds = await attempt(() => ui.api.credentials(session.accessToken, candidate.subscription));
          const auth = creds.ok ? docsAuth(config.spec, creds.value, candidate.application) : undefined;
          if (auth) {
            config.auth = auth;
            break;
          }
        }
      }
      return reply.type("application/json; charset=utf-8").send(JSON.stringify(config));
    } catch (err) {
      if (!(err instanceof ApiProblem)) throw err;
      const detail =
        err.status === 401 ? "Your session has ended; reload the page to log in again." : err.message;
      return problem(reply, err.status, detail);
    }
  });

  function notFound(request: FastifyRequest, reply: FastifyReply, detail: string): FastifyReply {
    return sendPage(reply, errorPage(pageContext(ui, request, reply), 404, "API not found", detail), 404);
  }
}

/** A refusal of the docs JSON, as problem+json the docs script shows. */
function problem(reply: FastifyReply, status: number, detail: string): FastifyReply {
  const code = status >= 400 && status < 600 ? status : 502;
  return reply
    .code(code)
    .type("application/problem+json; charset=utf-8")
    .send(
      JSON.stringify({
        title: code === 404 ? "Not found" : "The docs cannot be loaded",
        status: code,
        detail,
      }),
    );
}
