/**
 * The browser's state, kept in signed cookies (no server-side store, so any replica serves any request):
 * the session (the user and their tokens), the login in flight (PKCE verifier, state, nonce) and the flash
 * message shown once after a redirect. Signed with the portal's cookie keys (first signs, all verify), httpOnly,
 * SameSite=Lax, Secure when the portal is served over https. Names are prefixed so they never collide with
 * the auth server's cookies on the same host.
 */
import type { FastifyReply, FastifyRequest } from "fastify";

/** Cookie names. */
export const COOKIES = {
  session: "wicked_ui_session",
  login: "wicked_ui_login",
  flash: "wicked_ui_flash",
  csrf: "wicked_ui_csrf",
} as const;

/** The logged-in user as the pages need them. */
export interface SessionUser {
  id: string;
  email: string;
  name: string;
  admin: boolean;
  approver: boolean;
}

/** A logged-in browser. */
export interface Session {
  user: SessionUser;
  accessToken: string;
  /** Seconds since the epoch when the access token expires. */
  expiresAt: number;
  refreshToken?: string;
}

/** A login in flight between leaving for the auth server and coming back. */
export interface LoginState {
  state: string;
  nonce: string;
  verifier: string;
  /** Where to go after the login (a path on this site). */
  returnTo: string;
}

/** A message for the next page. */
export interface Flash {
  kind: "success" | "error" | "info";
  text: string;
}

/** Cookie flags shared by every cookie of the UI. */
export interface CookieFlags {
  secure: boolean;
}

/** The session's lifetime in the browser (the auth server's session is 12 h). */
const SESSION_MAX_AGE_S = 12 * 60 * 60;

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

function decode<T>(
  request: FastifyRequest,
  name: string,
  check: (value: unknown) => value is T,
): T | undefined {
  const cookie = request.cookies[name];
  if (!cookie) return undefined;
  const unsigned = request.unsignCookie(cookie);
  if (!unsigned.valid || unsigned.value === null) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(unsigned.value, "base64url").toString("utf8"));
    return check(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Whether a decoded cookie is a session. */
export function isSession(value: unknown): value is Session {
  if (!isObject(value) || !isObject(value.user)) return false;
  const u = value.user;
  return (
    typeof value.accessToken === "string" &&
    typeof value.expiresAt === "number" &&
    (value.refreshToken === undefined || typeof value.refreshToken === "string") &&
    typeof u.id === "string" &&
    typeof u.email === "string" &&
    typeof u.name === "string" &&
    typeof u.admin === "boolean" &&
    typeof u.approver === "boolean"
  );
}

function isLoginState(value: unknown): value is LoginState {
  return (
    isObject(value) &&
    typeof value.state === "string" &&
    typeof value.nonce === "string" &&
    typeof value.verifier === "string" &&
    typeof value.returnTo === "string"
  );
}

function isFlash(value: unknown): value is Flash {
  return (
    isObject(value) &&
    (value.kind === "success" || value.kind === "error" || value.kind === "info") &&
    typeof value.text === "string"
  );
}

function options(flags: CookieFlags, maxAge: number) {
  return { path: "/", httpOnly: true, sameSite: "lax" as const, secure: flags.secure, signed: true, maxAge };
}

/** The session of a request, if it carries a valid one. */
export function readSession(request: FastifyRequest): Session | undefined {
  return decode(request, COOKIES.session, isSession);
}

/** Stores the session. */
export function writeSession(reply: FastifyReply, flags: CookieFlags, session: Session): void {
  reply.setCookie(COOKIES.session, encode(session), options(flags, SESSION_MAX_AGE_S));
}

/** Ends the session in this browser. */
export function clearSession(reply: FastifyReply, flags: CookieFlags): void {
  reply.clearCookie(COOKIES.session, { path: "/", secure: flags.secure, sameSite: "lax", httpOnly: true });
}

/** The login in flight. */
export function readLoginState(request: FastifyRequest): LoginState | undefined {
  return decode(request, COOKIES.login, isLoginState);
}

/** Remembers the login in flight for ten minutes. */
export function writeLoginState(reply: FastifyReply, flags: CookieFlags, state: LoginState): void {
  reply.setCookie(COOKIES.login, encode(state), options(flags, 600));
}

/** Forgets the login in flight. */
export function clearLoginState(reply: FastifyReply, flags: CookieFlags): void {
  reply.clearCookie(COOKIES.login, { path: "/", secure: flags.secure, sameSite: "lax", httpOnly: true });
}

/** The flash message of a request (the caller clears it once shown). */
export function readFlash(request: FastifyRequest): Flash | undefined {
  return decode(request, COOKIES.flash, isFlash);
}

/** Sets a message for the next page. */
export function writeFlash(reply: FastifyReply, flags: CookieFlags, flash: Flash): void {
  reply.setCookie(COOKIES.flash, encode(flash), options(flags, 120));
}

/** Clears the flash message once shown. */
export function clearFlash(reply: FastifyReply, flags: CookieFlags): void {
  reply.clearCookie(COOKIES.flash, { path: "/", secure: flags.secure, sameSite: "lax", httpOnly: true });
}

/** A path on this site to return to after login; anything else (another origin, `//host`) becomes "/". */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== "string") return "/";
  if (!/^\/(?![/\\])/.test(value) || hasControlCharacter(value)) return "/";
  return value.length > 2000 ? "/" : value;
}

/** Whether text holds a control character (which browsers strip from URLs, changing their meaning). */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}
