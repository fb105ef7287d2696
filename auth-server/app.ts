/**
 * The auth server, built in one place from its dependencies: `createAuthServer(deps)` returns the fastify
 * app (the provider is mounted under the issuer's path, the interaction pages next to it, probes and metrics
 * at the root) and a `stop`. `listen` is called elsewhere (main.ts, tests).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import cookie from "@fastify/cookie";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { type Kysely, sql } from "kysely";
import type Provider from "oidc-provider";
import type { Logger } from "pino";
import type { Clock, ScryptParams } from "../accounts/index.ts";
import { closeWithin } from "../component/close.ts";
import { addRequestMetrics } from "../component/http-metrics.ts";
import { addSecurityHeaders } from "../component/security-headers.ts";
import type { Database } from "../db/schema.ts";
import { purgeExpired } from "./adapter.ts";
import { type ClientDirectory, readModelClients, type SecretReader } from "./clients.ts";
import type { AuthServerConfig } from "./config.ts";
import { type Federation, openidFederation } from "./federation.ts";
import { interactionRoutes } from "./interactions.ts";
import type { AuthKeys } from "./keys.ts";
import { createProvider, firstPartyClients, mountPath } from "./provider.ts";
import { type ThrottleOverrides, throttleSettings } from "./throttle.ts";

/** What the auth server needs from outside. */
export interface AuthServerDeps {
  config: AuthServerConfig;
  db: Kysely<Database>;
  /** Secrets of the portal's namespace (kube.ts `kubeSecretReader`): credentials and IdP client secrets. */
  secrets: SecretReader;
  /** Signing and cookie keys (keys.ts `readAuthKeys`). */
  keys: AuthKeys;
  logger: Logger;
  /** "Now" for account tokens and the purge; the provider itself uses the system clock. */
  clock?: Clock;
  /** scrypt cost of new password hashes (tests lower it). */
  scrypt?: ScryptParams;
  /**
   * Limits of login attempts (per client address, per account, global) and sign-ups (per address, global);
   * defaults to the configuration's, and every limit given in neither keeps throttle.ts DEFAULT_THROTTLE.
   */
  throttle?: ThrottleOverrides;
  /** Whether (or how many hops of) X-Forwarded-For to trust; default 1 (one ingress). */
  trustProxy?: boolean | number;
  /** Upstream login; defaults to openid-client against the configured providers. */
  federation?: Federation;
  /** OAuth clients; defaults to the read model and the credentials Secrets. */
  clients?: ClientDirectory;
  /** How often expired provider rows are purged; default 10 minutes, 0 to never. */
  purgeIntervalMs?: number;
}

/** The built auth server. */
export interface AuthServer {
  app: FastifyInstance;
  provider: Provider;
  /** Stops the purge timer and closes the server (not the database, which belongs to the caller). */
  stop(): Promise<void>;
}

/** Builds the auth server; the returned app is ready. */
export async function createAuthServer(deps: AuthServerDeps): Promise<AuthServer> {
  const { config } = deps;
  const issuer = config.urls.auth.replace(/\/+$/, "");
  const mount = mountPath(issuer);
  const clock = deps.clock ?? (() => new Date());
  const frame = { portalName: config.displayName, title: config.displayName };
  const clients =
    deps.clients ??
    readModelClients({ db: deps.db, secrets: deps.secrets, namespace: config.portal.namespace });
  const provider = createProvider({
    config,
    keys: deps.keys,
    db: deps.db,
    clients,
    logger: deps.logger,
    frame,
  });
  const trust = deps.trustProxy ?? 1;

  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    trustProxy: typeof trust === "boolean" ? trust : (_address: string, hop: number) => hop < trust,
  });
  await app.register(cookie, { secret: deps.keys.cookieKeys });
  addSecurityHeaders(app, {
    contentSecurityPolicy: {
      useDefaults: true,
      // The provider's form_post and logout pages submit forms to the clients' redirect URIs. An http issuer
      // (inside a cluster, behind no TLS) must not make browsers upgrade its own form posts to https.
      directives: {
        "form-action": null,
        "upgrade-insecure-requests": issuer.startsWith("https:") ? [] : null,
      },
    },
    hsts: issuer.startsWith("https:"),
  });
  const metrics = addRequestMetrics(app, "auth-server");

  app.get("/healthz", async (_request, reply) => reply.type("text/plain").send("ok\n"));
  app.get("/readyz", async (request, reply) => {
    try {
      await sql`SELECT 1`.execute(deps.db);
      return reply.type("text/plain").send("ok\n");
    } catch (err) {
      request.log.warn({ err }, "Readiness check failed: the database does not answer");
      return reply.code(503).type("text/plain").send("database unavailable\n");
    }
  });
  app.get("/metrics", async (_request, reply) =>
    reply.type(metrics.contentType).send(await metrics.metrics()),
  );

  await app.register(async (scope) =>
    interactionRoutes(scope, {
      provider,
      config,
      db: deps.db,
      accounts: {
        db: deps.db,
        clock,
        policy: { minLength: config.login.local.passwordMinLength },
        verification: config.mail?.enabled ?? true,
        scrypt: deps.scrypt,
      },
      federation:
        deps.federation ??
        openidFederation({ issuer, providers: config.login.providers, secrets: deps.secrets }),
      frame,
      mount,
      secure: issuer.startsWith("https:"),
      firstParty: new Set(firstPartyClients(config, deps.keys).map((c) => c.client_id)),
      throttle: throttleSettings(deps.throttle ?? config.throttle),
      logger: deps.logger,
    }),
  );

  // Everything else under the issuer's path is the provider's (a Koa app): hand it the raw request with the
  // body unread and the mount path stripped, as Express's app.use(path, provider.callback()) would.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, _payload, done) => done(null));
    const callback = provider.callback();
    const handle = async (
      request: { raw: IncomingMessage },
      reply: { hijack(): void; raw: ServerResponse },
    ) => {
      reply.hijack();
      const raw = request.raw;
      const url = raw.url ?? "/";
      Object.assign(raw, { originalUrl: url, url: url.slice(mount.length) || "/" });
      await callback(raw, reply.raw);
    };
    scope.all(`${mount}/*`, handle);
    if (mount) scope.all(mount, handle);
  });
  await app.ready();

  const purgeEvery = deps.purgeIntervalMs ?? 10 * 60_000;
  const purge =
    purgeEvery > 0
      ? setInterval(() => {
          purgeExpired(deps.db, clock()).then(
            (n) => n > 0 && deps.logger.info({ rows: n }, "Purged expired OIDC provider rows"),
            (err: unknown) =>
              deps.logger.warn({ err }, "Failed to purge expired OIDC provider rows; retrying later"),
          );
        }, purgeEvery)
      : undefined;
  purge?.unref();

  return {
    app,
    provider,
    async stop() {
      if (purge) clearInterval(purge);
      await closeWithin(app);
    },
  };
}
