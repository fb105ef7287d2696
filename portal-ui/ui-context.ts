/**
 * What the route plugins share: the configuration, the portal API client, the OIDC client, cookie flags,
 * and the request helpers every page uses (render a page, require a logged-in user with a fresh token, turn
 * a portal API refusal into a message or a redirect to the login).
 */
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from "fastify";
import { ApiProblem, type PortalApiClient } from "./api-client.ts";
import type { PortalUiConfig } from "./config.ts";
import { type Renderable, toHtmlString } from "./html.ts";
import type { OidcClient } from "./oidc.ts";
import {
  type CookieFlags,
  clearFlash,
  clearSession,
  readFlash,
  readSession,
  type Session,
  writeFlash,
  writeSession,
} from "./session.ts";
import type { PageContext } from "./views/context.ts";

/** A component whose health the admin overview shows. */
export interface HealthTarget {
  name: string;
  /** URL that answers 2xx when the component is healthy. */
  url: string;
}

/** The shared dependencies of the routes. */
export interface UiContext {
  config: PortalUiConfig;
  api: PortalApiClient;
  oidc: OidcClient;
  flags: CookieFlags;
  assetVersion: string;
  /** "Now" in seconds since the epoch. */
  now: () => number;
  fetch: typeof fetch;
  health: HealthTarget[];
  logger: FastifyBaseLogger;
}

/** A form body as @fastify/formbody parses it. */
export type FormBody = Record<string, string | string[] | undefined>;

/** One value of a posted form ("" when absent; the first when repeated). */
export function formValue(body: unknown, key: string): string {
  if (typeof body !== "object" || body === null) return "";
  const value = Reflect.get(body, key);
  if (Array.isArray(value)) return typeof value[0] === "string" ? value[0] : "";
  return typeof value === "string" ? value : "";
}

/** A query parameter as a string ("" when absent). */
export function queryValue(request: FastifyRequest, key: string): string {
  return formValue(request.query, key);
}

/** A page number from the query (1 when absent or invalid). */
export function pageNumber(request: FastifyRequest): number {
  const n = Number(queryValue(request, "page"));
  return Number.isInteger(n) && n >= 1 && n <= 100_000 ? n : 1;
}

/** The frame of a page for this request (generates the CSRF token, takes the flash message). */
export function pageContext(ui: UiContext, request: FastifyRequest, reply: FastifyReply): PageContext {
  const flash = readFlash(request);
  if (flash) clearFlash(reply, ui.flags);
  const session = readSession(request);
  return {
    config: ui.config,
    ...(session ? { user: session.user } : {}),
    csrfToken: reply.generateCsrf(),
    ...(flash ? { flash } : {}),
    path: request.url.split("?")[0] ?? "/",
    assetVersion: ui.assetVersion,
  };
}

/** Sends a page. */
export function sendPage(reply: FastifyReply, page: Renderable, status = 200): FastifyReply {
  return reply
    .code(status)
    .type("text/html; charset=utf-8")
    .header("Cache-Control", "no-store")
    .send(toHtmlString(page));
}

/** Redirects after a form post (303, so the browser follows with GET), optionally with a message. */
export function redirectWith(
  ui: UiContext,
  reply: FastifyReply,
  location: string,
  flash?: { kind: "success" | "error" | "info"; text: string },
): FastifyReply {
  if (flash) writeFlash(reply, ui.flags, flash);
  return reply.code(303).header("Location", location).send();
}

/** The login URL that brings the user back to this request's page. */
export function loginUrl(request: FastifyRequest): string {
  const back =
    request.method === "GET"
      ? request.url
      : request.headers.referer
        ? safePath(request.headers.referer)
        : "/";
  return `/login?returnTo=${encodeURIComponent(back)}`;
}

function safePath(referer: string): string {
  try {
    const url = new URL(referer);
    return `${url.pathname}${url.search}`;
  } catch {
    return "/";
  }
}

/**
 * The session with an access token valid for at least a minute, refreshing it when needed; undefined (after
 * redirecting to the login) when there is none or it cannot be refreshed.
 */
export async function requireSession(
  ui: UiContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<Session | undefined> {
  const session = readSession(request);
  if (!session) {
    redirectWith(
      ui,
      reply,
      loginUrl(request),
      request.method === "GET" ? undefined : { kind: "info", text: "Log in to continue." },
    );
    return undefined;
  }
  if (session.expiresAt - ui.now() > 60) return session;
  if (session.refreshToken) {
    try {
      const tokens = await ui.oidc.refresh(session.refreshToken);
      const refreshed: Session = {
        ...session,
        accessToken: tokens.accessToken,
        expiresAt: tokens.expiresAt,
        ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}),
      };
      writeSession(reply, ui.flags, refreshed);
      request.log.debug({ userId: session.user.id }, "Refreshed session tokens");
      return refreshed;
    } catch (err) {
      request.log.info(
        { userId: session.user.id, err: (err as Error).message },
        "Session refresh failed; logging in again",
      );
    }
  }
  clearSession(reply, ui.flags);
  redirectWith(ui, reply, loginUrl(request), { kind: "info", text: "Your session has ended; log in again." });
  return undefined;
}

/** Whether a problem means the token is no longer accepted (the user must log in again). */
export function isLoggedOutProblem(err: unknown): err is ApiProblem {
  return err instanceof ApiProblem && err.status === 401;
}

/** Runs a portal API call for a form; an ApiProblem comes back as a value, anything else is thrown. */
export async function attempt<T>(
  work: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; problem: ApiProblem }> {
  try {
    return { ok: true, value: await work() };
  } catch (err) {
    if (err instanceof ApiProblem && !isLoggedOutProblem(err)) return { ok: false, problem: err };
    throw err;
  }
}
