/**
 * The interaction pages the provider sends users to: login (local or through an upstream provider), sign-up
 * and consent. Each route is thin: it reads the interaction, calls the accounts or federation module, and
 * renders a page or hands the result back to the provider. Form posts carry a CSRF token; login and sign-up
 * are throttled.
 */
import csrf from "@fastify/csrf-protection";
import formbody from "@fastify/formbody";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Kysely } from "kysely";
import type { Interaction, Provider } from "oidc-provider";
import type { Logger } from "pino";
import {
  AccountError,
  type AccountsContext,
  authenticate,
  resendVerification,
  signUp,
} from "../accounts/index.ts";
import type { Database } from "../db/schema.ts";
import type { AuthServerConfig } from "./config.ts";
import {
  callbackUrl,
  type Federation,
  FederationError,
  type FederationState,
  linkFederatedUser,
} from "./federation.ts";
import { interactionThrottles, type ThrottleSettings } from "./throttle.ts";
import { consentPage, loginPage, messagePage, type PageFrame, signupPage } from "./views.ts";

/** What the interaction routes need. */
export interface InteractionDeps {
  provider: Provider;
  config: AuthServerConfig;
  db: Kysely<Database>;
  accounts: AccountsContext;
  federation: Federation;
  frame: PageFrame;
  /** The issuer's path, under which every route lives. */
  mount: string;
  /** Whether cookies get the Secure flag (an https issuer). */
  secure: boolean;
  /** Client ids that skip the consent page (the portal's own clients). */
  firstParty: ReadonlySet<string>;
  /** Limits of login attempts (per client address, per account, global) and sign-ups (per address, global). */
  throttle: ThrottleSettings;
  logger: Logger;
}

const FEDERATION_COOKIE = "wicked_federation";

/** Text Postgres cannot store: a NUL character or an unpaired UTF-16 surrogate. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL characters is the point
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether a parsed form or query holds text that would fail in the database (and so answer 500). */
export function hasUnstorableText(values: unknown): boolean {
  if (typeof values !== "object" || values === null) return false;
  return Object.entries(values).some(
    ([key, value]) =>
      UNSTORABLE.test(key) || [value].flat().some((v) => typeof v === "string" && UNSTORABLE.test(v)),
  );
}

type Form = Record<string, string | undefined>;
type UidParams = { Params: { uid: string }; Body: Form };

function field(body: unknown, name: string): string {
  if (typeof body !== "object" || body === null) return "";
  const value = Reflect.get(body, name);
  return typeof value === "string" ? value : "";
}

/** Registers the interaction routes on an encapsulated scope. */
export async function interactionRoutes(app: FastifyInstance, deps: InteractionDeps): Promise<void> {
  const { provider, config, mount, frame } = deps;
  const local = config.login.local;
  const base = `${mount}/interaction`;

  await app.register(formbody, { bodyLimit: 16 * 1024 });
  await app.register(csrf, {
    sessionPlugin: "@fastify/cookie",
    cookieKey: "wicked_csrf",
    cookieOpts: { path: mount || "/", httpOnly: true, sameSite: "lax", secure: deps.secure, signed: true },
    getToken: (request) => field(request.body, "_csrf"),
  });
  const throttles = interactionThrottles(deps.throttle);

  const send = (reply: FastifyReply, status: number, html: string) =>
    reply.code(status).type("text/html; charset=utf-8").header("Cache-Control", "no-store").send(html);

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = typeof err.statusCode === "number" && err.statusCode >= 400 ? err.statusCode : 500;
    let message = "Something went wrong on our side; go back to the application and try again.";
    if (status === 429) message = err.message;
    else if (err.code?.startsWith("FST_CSRF"))
      message = "This form has expired. Reload the page and try again.";
    else if (status < 500) message = err.message;
    else request.log.error({ err }, "Failed to answer an interaction request");
    return send(
      reply,
      status,
      messagePage({ ...frame, title: "Could not continue" }, { message, error: true }),
    );
  });

  app.addHook("preValidation", async (request, reply) => {
    if (!hasUnstorableText(request.body) && !hasUnstorableText(request.query)) return;
    return send(
      reply,
      400,
      messagePage(
        { ...frame, title: "Could not continue" },
        {
          message: "The form contains characters that are not valid text; correct them and try again.",
          error: true,
        },
      ),
    );
  });

  /** The interaction of the request's cookie, checked against the URL; renders an error page when it is gone. */
  async function interactionOf(
    request: FastifyRequest<UidParams>,
    reply: FastifyReply,
  ): Promise<Interaction | undefined> {
    try {
      const details = await provider.interactionDetails(request.raw, reply.raw);
      if (details.uid === request.params.uid) return details;
    } catch (err) {
      if (!(err instanceof Error) || err.name !== "SessionNotFound") throw err;
    }
    await send(
      reply,
      400,
      messagePage(
        { ...frame, title: "Login expired" },
        { message: "This login page has expired. Go back to the application and log in again.", error: true },
      ),
    );
    return undefined;
  }

  async function finish(
    request: FastifyRequest,
    reply: FastifyReply,
    result: Record<string, unknown>,
  ): Promise<void> {
    reply.hijack();
    await provider.interactionFinished(request.raw, reply.raw, result, { mergeWithLastSubmission: false });
  }

  function renderLogin(
    reply: FastifyReply,
    details: Interaction,
    status: number,
    extra: { email?: string; error?: string; notice?: string } = {},
  ) {
    return send(
      reply,
      status,
      loginPage(
        { ...frame, title: `Log in to ${frame.portalName}` },
        {
          action: `${base}/${details.uid}/login`,
          csrfToken: reply.generateCsrf(),
          localEnabled: local.enabled,
          signupHref: local.enabled && local.allowSignup ? `${base}/${details.uid}/signup` : undefined,
          providers: deps.federation.providers.map((p) => ({
            name: p.name,
            displayName: p.displayName,
            href: `${base}/${details.uid}/federated/${p.name}`,
          })),
          abortHref: `${base}/${details.uid}/abort`,
          ...extra,
        },
      ),
    );
  }

  /** Grants what the client asked for (consent given), returning the interaction result. */
  async function consent(details: Interaction): Promise<Record<string, unknown>> {
    const accountId = details.session?.accountId;
    if (!accountId) throw new Error("Consent without a logged-in account");
    const grant =
      (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
      new provider.Grant({ accountId, clientId: details.params.client_id });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(resource, scopes.join(" "));
    }
    const grantId = await grant.save();
    return { consent: details.grantId ? {} : { grantId } };
  }

  app.get<UidParams>(`${base}/:uid`, async (request, reply) => {
    const details = await interactionOf(request, reply);
    if (!details) return reply;
    if (details.prompt.name === "login") return renderLogin(reply, details, 200);
    if (details.prompt.name === "consent") {
      if (deps.firstParty.has(details.params.client_id))
        return finish(request, reply, await consent(details));
      const client = await provider.Client.find(details.params.client_id);
      const missing = details.prompt.details;
      const scopes = [
        ...(missing.missingOIDCScope ?? []).filter((s) => s !== "openid"),
        ...Object.values(missing.missingResourceScopes ?? {}).flat(),
      ];
      return send(
        reply,
        200,
        consentPage(
          { ...frame, title: "Allow access?" },
          {
            action: `${base}/${details.uid}/confirm`,
            abortHref: `${base}/${details.uid}/abort`,
            csrfToken: reply.generateCsrf(),
            clientName: String(
              (client as { clientName?: string } | undefined)?.clientName ?? details.params.client_id,
            ),
            scopes: [...new Set(scopes)],
          },
        ),
      );
    }
    return send(
      reply,
      400,
      messagePage({ ...frame, title: "Could not continue" }, { message: "Unknown step.", error: true }),
    );
  });

  app.post<UidParams>(
    `${base}/:uid/login`,
    { preHandler: [app.csrfProtection, throttles.login] },
    async (request, reply) => {
      const details = await interactionOf(request, reply);
      if (!details) return reply;
      const email = field(request.body, "email").trim();
      if (!local.enabled || details.prompt.name !== "login") {
        return renderLogin(reply, details, 403, {
          error: "Log in through one of the identity providers below.",
        });
      }
      try {
        const user = await authenticate(deps.accounts, email, field(request.body, "password"));
        request.log.info({ userId: user.id }, "Logged in User");
        return finish(request, reply, { login: { accountId: user.id } });
      } catch (err) {
        if (!(err instanceof AccountError)) throw err;
        if (err.code === "EmailNotVerified") {
          await resendVerification(deps.accounts, email);
          return renderLogin(reply, details, 403, {
            email,
            error: "Verify your email address first: we have sent you a new link. Follow it, then log in.",
          });
        }
        return renderLogin(reply, details, 401, { email, error: "Wrong email or password." });
      }
    },
  );

  app.get<UidParams>(`${base}/:uid/signup`, async (request, reply) => {
    const details = await interactionOf(request, reply);
    if (!details) return reply;
    if (!local.enabled || !local.allowSignup)
      return renderLogin(reply, details, 403, { error: "This portal does not allow signing up." });
    return send(
      reply,
      200,
      signupPage(
        { ...frame, title: `Create an account on ${frame.portalName}` },
        {
          action: `${base}/${details.uid}/signup`,
          csrfToken: reply.generateCsrf(),
          minLength: local.passwordMinLength,
          loginHref: `${base}/${details.uid}`,
        },
      ),
    );
  });

  app.post<UidParams>(
    `${base}/:uid/signup`,
    { preHandler: [app.csrfProtection, throttles.signup] },
    async (request, reply) => {
      const details = await interactionOf(request, reply);
      if (!details) return reply;
      if (!local.enabled || !local.allowSignup) {
        return renderLogin(reply, details, 403, { error: "This portal does not allow signing up." });
      }
      const input = {
        email: field(request.body, "email").trim(),
        displayName: field(request.body, "displayName").trim(),
        password: field(request.body, "password"),
      };
      try {
        if (!input.displayName) throw new AccountError("InvalidEmail", "Enter your name.");
        const result = await signUp(deps.accounts, input);
        if (result.outcome === "created" && result.verified && result.userId) {
          request.log.info({ userId: result.userId }, "Created User");
          return finish(request, reply, { login: { accountId: result.userId } });
        }
        if (result.outcome === "created") request.log.info({ userId: result.userId }, "Created User");
        return send(
          reply,
          200,
          messagePage(
            { ...frame, title: "Check your email" },
            {
              message:
                "If this address can receive mail, a message with a verification link is on its way. Follow it, then log in.",
              link: { href: `${base}/${details.uid}`, text: "Log in" },
            },
          ),
        );
      } catch (err) {
        if (!(err instanceof AccountError)) throw err;
        return send(
          reply,
          err.code === "EmailTaken" ? 409 : 400,
          signupPage(
            { ...frame, title: `Create an account on ${frame.portalName}` },
            {
              action: `${base}/${details.uid}/signup`,
              csrfToken: reply.generateCsrf(),
              minLength: local.passwordMinLength,
              loginHref: `${base}/${details.uid}`,
              email: input.email,
              displayName: input.displayName,
              error: err.code === "WeakPassword" ? "Choose a stronger password:" : err.message,
              problems: err.problems,
            },
          ),
        );
      }
    },
  );

  app.post<UidParams>(`${base}/:uid/confirm`, { preHandler: app.csrfProtection }, async (request, reply) => {
    const details = await interactionOf(request, reply);
    if (!details) return reply;
    if (details.prompt.name !== "consent") return reply.redirect(`${base}/${details.uid}`, 303);
    return finish(request, reply, await consent(details));
  });

  app.get<UidParams>(`${base}/:uid/abort`, async (request, reply) => {
    const details = await interactionOf(request, reply);
    if (!details) return reply;
    return finish(request, reply, {
      error: "access_denied",
      error_description: "The user cancelled the login.",
    });
  });

  app.get<{ Params: { uid: string; name: string }; Body: Form }>(
    `${base}/:uid/federated/:name`,
    async (request, reply) => {
      const details = await interactionOf(request as unknown as FastifyRequest<UidParams>, reply);
      if (!details) return reply;
      try {
        const { url, state } = await deps.federation.start(request.params.name, details.uid);
        reply.setCookie(FEDERATION_COOKIE, JSON.stringify(state), {
          path: `${mount}/federation/`,
          httpOnly: true,
          sameSite: "lax",
          secure: deps.secure,
          signed: true,
          maxAge: 600,
        });
        return reply.redirect(url, 303);
      } catch (err) {
        if (!(err instanceof FederationError)) throw err;
        return renderLogin(reply, details, 502, { error: err.message });
      }
    },
  );

  app.get<{ Params: { name: string } }>(`${mount}/federation/:name/callback`, async (request, reply) => {
    const state = federationState(request, request.params.name);
    const failed = (message: string, uid?: string) =>
      send(
        reply,
        400,
        messagePage(
          { ...frame, title: "Login failed" },
          {
            message,
            error: true,
            link: uid ? { href: `${base}/${uid}`, text: "Back to the login page" } : undefined,
          },
        ),
      );
    if (!state) return failed("This login has expired. Go back to the application and log in again.");
    reply.clearCookie(FEDERATION_COOKIE, { path: `${mount}/federation/` });
    const query = request.url.includes("?") ? request.url.slice(request.url.indexOf("?")) : "";
    try {
      const identity = await deps.federation.finish(
        new URL(`${callbackUrl(config.urls.auth, state.provider)}${query}`),
        state,
      );
      const user = await linkFederatedUser(deps.db, identity, {
        mappings: config.groups.mappings,
        now: deps.accounts.clock(),
        namespace: config.portal.namespace,
      });
      const interaction = await provider.Interaction.find(state.uid);
      if (!interaction) return failed("This login has expired. Go back to the application and log in again.");
      interaction.result = { login: { accountId: user.id } };
      await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
      request.log.info(
        { userId: user.id, provider: state.provider },
        "Logged in User through identity provider",
      );
      return reply.redirect(interaction.returnTo, 303);
    } catch (err) {
      if (err instanceof FederationError) return failed(err.message, state.uid);
      throw err;
    }
  });
}

/** The federation state from its signed cookie, when it is intact and for this provider. */
function federationState(request: FastifyRequest, provider: string): FederationState | undefined {
  const raw = request.cookies[FEDERATION_COOKIE];
  if (!raw) return undefined;
  const unsigned = request.unsignCookie(raw);
  if (!unsigned.valid || unsigned.value === null) return undefined;
  try {
    const state = JSON.parse(unsigned.value) as FederationState;
    return state.provider === provider && typeof state.uid === "string" ? state : undefined;
  } catch {
    return undefined;
  }
}
