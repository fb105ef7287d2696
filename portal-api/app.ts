/**
 * The portal API, built in one place from its dependencies: `createPortalApi(deps)` returns the fastify
 * app (tests call `app.inject`, main.ts calls `listen`) and a `stop`.
 */
import cookie from "@fastify/cookie";
import swagger from "@fastify/swagger";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyBaseLogger } from "fastify";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { ScryptParams } from "../accounts/password.ts";
import type { Clock } from "../accounts/service.ts";
import { closeWithin } from "../component/close.ts";
import { addRequestMetrics } from "../component/http-metrics.ts";
import type { Database } from "../db/schema.ts";
import type { PortalApiConfig } from "./config.ts";
import type { AccountThrottle, PortalApp, PortalContext } from "./context.ts";
import type { PortalKube } from "./kube.ts";
import { addAuthentication, remoteTokenVerifier, type TokenVerifier } from "./plugins/authentication.ts";
import { addClientAddress } from "./plugins/client-address.ts";
import { addProblemHandling, frameworkErrors } from "./plugins/problem-handler.ts";
import { addTextGuard } from "./plugins/text-guard.ts";
import { accountRoutes } from "./routes/accounts.ts";
import { adminRoutes } from "./routes/admin.ts";
import { applicationRoutes } from "./routes/applications.ts";
import { approvalRoutes } from "./routes/approvals.ts";
import { catalogRoutes } from "./routes/catalog.ts";
import { meRoutes } from "./routes/me.ts";
import { subscriptionRoutes } from "./routes/subscriptions.ts";
import { systemRoutes } from "./routes/system.ts";

/** What the portal API needs from outside. */
export interface PortalApiDeps {
  config: PortalApiConfig;
  db: Kysely<Database>;
  /** The portal's namespace in Kubernetes (portal-api/kube.ts `portalKube`). */
  kube: PortalKube;
  logger: Logger;
  /** "Now"; defaults to the system clock. */
  clock?: Clock;
  /** Checks access tokens; defaults to the auth server's JWKS at `<urls.auth>/jwks`. */
  tokens?: TokenVerifier;
  /** scrypt cost of new password hashes (tests lower it). */
  scrypt?: ScryptParams;
  /**
   * Limits of the unauthenticated account routes; defaults to the configuration's, and every limit given in
   * neither keeps DEFAULT_ACCOUNT_THROTTLE.
   */
  throttle?: Partial<AccountThrottle>;
  /** Whether (or how many hops of) X-Forwarded-For to trust for client addresses; default 1 (one ingress). */
  trustProxy?: boolean | number;
  /**
   * The key that signs the client addresses the portal UI forwards (component/client-address.ts); without it
   * every request counts under its own peer's address.
   */
  clientAddressKey?: string;
}

/**
 * The account routes' default limits, per replica: 10 requests a minute from one client address, 5 an hour
 * for one email address (each may send a mail), 120 a minute in all.
 */
export const DEFAULT_ACCOUNT_THROTTLE: AccountThrottle = {
  perAddress: { max: 10, timeWindowMs: 60_000 },
  perAccount: { max: 5, timeWindowMs: 60 * 60_000 },
  global: { max: 120, timeWindowMs: 60_000 },
};

/** A route as registered, for the OpenAPI conformance test and the startup log. */
export interface RouteSummary {
  method: string;
  url: string;
}

/** The built portal API. */
export interface PortalApi {
  app: PortalApp;
  /** Every route registered (HEAD routes fastify adds for GET excluded). */
  routes: RouteSummary[];
  /** Closes the server (not the database or the Kubernetes client, which belong to the caller). */
  stop(): Promise<void>;
}

/** Builds the portal API; the returned app is ready (plugins loaded, OpenAPI document built). */
export async function createPortalApi(deps: PortalApiDeps): Promise<PortalApi> {
  const { config } = deps;
  const clock = deps.clock ?? (() => new Date());
  const unmount = mountStripper(config.urls.api);
  const app: PortalApp = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    trustProxy: trustHops(deps.trustProxy ?? 1),
    rewriteUrl: (request) => unmount(request.url ?? "/"),
    bodyLimit: 1024 * 1024,
    frameworkErrors,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: "array", useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const routes: RouteSummary[] = [];
  app.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method !== "HEAD" || !route.routePath) routes.push({ method, url: route.url });
    }
  });

  addProblemHandling(app);
  addTextGuard(app);
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: `${config.displayName} portal API`,
        version: "v1",
        description:
          "Accounts, catalog, applications, subscriptions, approvals and administration of the portal.",
        license: { name: "Apache-2.0", identifier: "Apache-2.0" },
      },
      tags: [
        { name: "system", description: "Probes, metrics and this document." },
        { name: "accounts", description: "Signing up and recovering an account, before logging in." },
        { name: "account", description: "The caller's own account." },
        { name: "catalog", description: "The Apis of the portal, their plans and their OpenAPI documents." },
        { name: "applications", description: "The caller's applications (OAuth clients)." },
        {
          name: "subscriptions",
          description: "Subscriptions of the caller's applications and their credentials.",
        },
        { name: "approvals", description: "Subscriptions waiting for an approver's decision." },
        {
          name: "admin",
          description: "Users, every application and subscription, and the audit log (admins).",
        },
      ],
      components: {
        securitySchemes: {
          bearer: {
            type: "http",
            scheme: "bearer",
            bearerFormat: "JWT",
            description: `An access token from ${config.urls.auth} for the resource ${config.urls.api}.`,
          },
        },
      },
    },
    // Servers are added afterwards: given up front, @fastify/swagger strips the server URL's path (`/api`) from
    // every route path that starts with it, turning `/apis` into `s`.
    transformObject: (document) =>
      "openapiObject" in document
        ? { ...document.openapiObject, servers: [{ url: config.urls.api }] }
        : document.swaggerObject,
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === "string" ? json.$id : `def-${i}`,
    },
  });
  await app.register(cookie);
  addClientAddress(app, deps.clientAddressKey);
  const metrics = addRequestMetrics(app, "portal-api");
  addAuthentication(app, {
    db: deps.db,
    tokens: deps.tokens ?? remoteTokenVerifier(config.urls),
    verification: config.mail.enabled,
  });

  const authBase = config.urls.auth.replace(/\/+$/, "");
  const ctx: PortalContext = {
    config,
    db: deps.db,
    kube: deps.kube,
    clock,
    accounts: {
      db: deps.db,
      clock,
      policy: { minLength: config.login.local.passwordMinLength },
      verification: config.mail.enabled,
      scrypt: deps.scrypt,
    },
    authEndpoints: { token: `${authBase}/token`, authorization: `${authBase}/auth` },
    throttle: { ...DEFAULT_ACCOUNT_THROTTLE, ...(deps.throttle ?? config.throttle) },
  };

  await app.register(async (scope) => systemRoutes(scope, ctx, metrics));
  await app.register(async (scope) => accountRoutes(scope, ctx));
  await app.register(async (scope) => meRoutes(scope, ctx));
  await app.register(async (scope) => catalogRoutes(scope, ctx));
  await app.register(async (scope) => applicationRoutes(scope, ctx));
  await app.register(async (scope) => subscriptionRoutes(scope, ctx));
  await app.register(async (scope) => approvalRoutes(scope, ctx));
  await app.register(async (scope) => adminRoutes(scope, ctx));
  await app.ready();

  return { app, routes, stop: () => closeWithin(app) };
}

/**
 * The portal API answers under its URL's path as well as at the root, as the auth server does under its
 * issuer's: with urls.api `https://developer.example.com/api`, `/api/apis` is `/apis`. So an Ingress or
 * HTTPRoute routes it by a plain path prefix, which every controller supports, without rewriting, and the
 * kubelet's probes and in-cluster callers keep using the root. Returns the request URL with the path removed.
 */
export function mountStripper(apiUrl: string): (url: string) => string {
  const mount = new URL(apiUrl).pathname.replace(/\/+$/, "");
  if (mount === "") return (url) => url;
  return (url) => {
    if (url !== mount && !url.startsWith(`${mount}/`) && !url.startsWith(`${mount}?`)) return url;
    const rest = url.slice(mount.length);
    return rest.startsWith("/") ? rest : `/${rest}`;
  };
}

/** fastify's trustProxy for a number of proxy hops (its types do not take the number proxy-addr does). */
export function trustHops(trust: boolean | number): boolean | ((address: string, hop: number) => boolean) {
  return typeof trust === "boolean" ? trust : (_address, hop) => hop < trust;
}
