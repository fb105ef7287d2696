/**
 * `wicked portal-ui`: the server-rendered developer portal. `createPortalUi(deps)` builds the fastify app from
 * its dependencies (tests call `app.inject` or listen on a free port); `runPortalUiFromEnv()` reads the
 * configuration, the mounted keys and the environment, and listens.
 */
import cookie from "@fastify/cookie";
import csrf from "@fastify/csrf-protection";
import formbody from "@fastify/formbody";
import helmet from "@fastify/helmet";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { closeWithin } from "../component/close.ts";
import { createLogger } from "../component/logger.ts";
import { ApiProblem, PortalApiClient } from "./api-client.ts";
import {
  PORTAL_UI_CLIENT_ID,
  type PortalUiConfig,
  type PortalUiSecrets,
  readPortalUiConfig,
  readPortalUiSecrets,
} from "./config.ts";
import { type OidcClient, openidClient } from "./oidc.ts";
import { accountRoutes } from "./routes/accounts.ts";
import { adminRoutes } from "./routes/admin.ts";
import { apiDocsRoutes } from "./routes/api-docs.ts";
import { applicationRoutes } from "./routes/applications.ts";
import { assetRoutes } from "./routes/assets.ts";
import { catalogRoutes } from "./routes/catalog.ts";
import { cspDirectives } from "./security.ts";
import { COOKIES, CookieSealer, clearSession } from "./session.ts";
import {
  type HealthTarget,
  isLoggedOutProblem,
  loginUrl,
  pageContext,
  redirectWith,
  sendPage,
  type UiContext,
} from "./ui-context.ts";
import { errorPage } from "./views/public.ts";

/** What the portal UI needs from outside. */
export interface PortalUiDeps {
  config: PortalUiConfig;
  secrets: PortalUiSecrets;
  logger: Logger;
  /** Where the UI reaches the portal API (inside the cluster); defaults to `config.urls.api`. */
  portalApiUrl?: string;
  /** The auth server client; defaults to openid-client against `config.urls.auth`. */
  oidc?: OidcClient;
  /** fetch for the portal API, health probes and "try it"; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Components shown on the admin overview; defaults to the portal API's /readyz and the auth server's discovery. */
  health?: HealthTarget[];
  /** "Now" in seconds since the epoch. */
  now?: () => number;
  /**
   * Whether (or how many hops of) X-Forwarded-* to trust; default 1 (one ingress). The client address it
   * yields is also the one the account pages forward to the portal API for its per-address limits.
   */
  trustProxy?: boolean | number;
}

/** The built portal UI. */
export interface PortalUi {
  app: FastifyInstance;
  /** Closes the server. */
  stop(): Promise<void>;
}

const CSRF_CODES = new Set(["FST_CSRF_MISSING_SECRET", "FST_CSRF_INVALID_TOKEN"]);

/** Builds the portal UI; the returned app is ready. */
export async function createPortalUi(deps: PortalUiDeps): Promise<PortalUi> {
  const { config } = deps;
  const trust = deps.trustProxy ?? 1;
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    trustProxy: typeof trust === "boolean" ? trust : (_address: string, hop: number) => hop < trust,
    bodyLimit: 256 * 1024,
  });
  const secure = config.urls.portal.startsWith("https:");
  const fetchImpl = deps.fetch ?? fetch;
  const apiUrl = deps.portalApiUrl ?? config.urls.api;
  const portalBase = config.urls.portal.replace(/\/+$/, "");
  const oidc =
    deps.oidc ??
    openidClient({
      issuer: config.urls.auth,
      clientId: PORTAL_UI_CLIENT_ID,
      clientSecret: deps.secrets.clientSecret,
      redirectUri: `${portalBase}/login/callback`,
      postLogoutRedirectUri: portalBase,
      resource: config.urls.api,
    });

  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: cspDirectives(config.urls) },
    strictTransportSecurity: secure ? { maxAge: 31536000, includeSubDomains: false } : false,
    referrerPolicy: { policy: "same-origin" },
    crossOriginEmbedderPolicy: false,
  });
  await app.register(cookie, { secret: deps.secrets.cookieKeys, hook: "onRequest" });
  app.decorate("cookieSealer", new CookieSealer(deps.secrets.cookieKeys));
  await app.register(formbody);
  await app.register(csrf, {
    cookieKey: COOKIES.csrf,
    cookieOpts: { path: "/", sameSite: "lax", httpOnly: true, secure, signed: true },
  });
  // Every form post carries the token (the `_csrf` field); nothing changes state on GET.
  app.addHook("preHandler", (request, reply, done) => {
    if (request.method === "POST") app.csrfProtection(request, reply, done);
    else done();
  });

  const assetVersion = assetRoutes(app, config, new URL("./assets/", import.meta.url));
  const ui: UiContext = {
    config,
    api: new PortalApiClient(apiUrl, fetchImpl, undefined, deps.secrets.clientAddressKey),
    oidc,
    flags: { secure },
    assetVersion,
    now: deps.now ?? (() => Math.floor(Date.now() / 1000)),
    fetch: fetchImpl,
    health: deps.health ?? [
      { name: "Portal API", url: `${apiUrl.replace(/\/+$/, "")}/readyz` },
      {
        name: "Auth server",
        url: `${config.urls.auth.replace(/\/+$/, "")}/.well-known/openid-configuration`,
      },
    ],
    logger: app.log,
  };

  app.setNotFoundHandler((request, reply) => {
    const ctx = pageContext(ui, request, reply);
    return sendPage(
      reply,
      errorPage(
        ctx,
        404,
        "Page not found",
        "There is nothing at this address. Check the link, or start from the home page.",
      ),
      404,
    );
  });

  app.setErrorHandler((err: unknown, request, reply) => {
    if (isLoggedOutProblem(err)) {
      clearSession(reply, ui.flags);
      return redirectWith(ui, reply, loginUrl(request), {
        kind: "info",
        text: "Your session has ended; log in again.",
      });
    }
    const ctx = pageContext(ui, request, reply);
    if (err instanceof ApiProblem) {
      const status = err.status >= 400 && err.status < 600 ? err.status : 502;
      const title =
        status === 404
          ? "Not found"
          : status === 403
            ? "Not allowed"
            : status >= 500
              ? "Something went wrong"
              : err.title;
      if (status >= 500) request.log.warn({ status, detail: err.message }, "Portal API failed a request");
      return sendPage(reply, errorPage(ctx, status, title, err.message), status);
    }
    const code = typeof err === "object" && err !== null ? Reflect.get(err, "code") : undefined;
    if (typeof code === "string" && CSRF_CODES.has(code)) {
      return sendPage(
        reply,
        errorPage(
          ctx,
          403,
          "The form has expired",
          "For your safety the form could not be sent: it is too old or came from another site. Go back, reload the page and send it again.",
        ),
        403,
      );
    }
    const statusCode = typeof err === "object" && err !== null ? Reflect.get(err, "statusCode") : undefined;
    if (typeof statusCode === "number" && statusCode >= 400 && statusCode < 500) {
      return sendPage(
        reply,
        errorPage(
          ctx,
          statusCode,
          "The request was refused",
          "The browser sent something the portal cannot read; go back and try again.",
        ),
        statusCode,
      );
    }
    request.log.error({ err }, "Portal UI failed to answer a request");
    return sendPage(
      reply,
      errorPage(
        ctx,
        500,
        "Something went wrong",
        "The portal had a problem showing this page. Try again in a moment.",
      ),
      500,
    );
  });

  app.get("/healthz", async (_request, reply) => reply.type("text/plain").send("ok\n"));
  app.get("/readyz", async (_request, reply) => reply.type("text/plain").send("ok\n"));

  await app.register(async (scope) => catalogRoutes(scope, ui));
  await app.register(async (scope) => apiDocsRoutes(scope, ui));
  await app.register(async (scope) => accountRoutes(scope, ui));
  await app.register(async (scope) => applicationRoutes(scope, ui));
  await app.register(async (scope) => adminRoutes(scope, ui));
  await app.ready();
  return { app, stop: () => closeWithin(app) };
}

/** The portal UI as `wicked portal-ui` runs it: listening on PORT until stopped. */
export async function runPortalUiFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ url: string; stop(): Promise<void> }> {
  const logger = createLogger({ name: "portal-ui", level: env.WICKED_LOG_LEVEL ?? "info" });
  const config = readPortalUiConfig(env.WICKED_CONFIG ?? "/etc/wicked/config.json");
  const secrets = readPortalUiSecrets(env.WICKED_SECRETS_DIR ?? "/etc/wicked/secrets");
  const ui = await createPortalUi({
    config,
    secrets,
    logger,
    ...(env.WICKED_PORTAL_API_URL ? { portalApiUrl: env.WICKED_PORTAL_API_URL } : {}),
    trustProxy: env.WICKED_TRUSTED_PROXIES === undefined ? 1 : Number(env.WICKED_TRUSTED_PROXIES),
  });
  const port = Number(env.PORT ?? 3000);
  const url = await ui.app.listen({ port, host: env.HOST ?? "0.0.0.0" });
  logger.info({ url, portal: `${config.portal.namespace}/${config.portal.name}` }, "Started portal UI");
  return { url, stop: ui.stop };
}
