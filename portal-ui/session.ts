/**
 * The browser's state, kept in encrypted cookies (no server-side store, so any replica serves any request):
 * the session (the user and their tokens), the login in flight (PKCE verifier, state, nonce) and the flash
 * message shown once after a redirect. Sealed with AES-256-GCM under keys derived from the portal's cookie
 * keys (first seals, all open, so a rotation keeps sessions), so whoever gets hold of a cookie reads neither
 * the tokens nor the user, and a changed or undecryptable cookie counts as absent. httpOnly, SameSite=Lax,
 * Secure when the portal is served over https. Names are prefixed so they never collide with the auth
 * server's cookies on the same host.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";

declare module "fastify" {
  interface FastifyInstance {
    /** Seals and opens the portal UI's cookies (portal-ui/session.ts); decorated by createPortalUi. */
    cookieSealer: CookieSealer;
  }
}

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

const IV_BYTES = 12;
const TAG_BYTES = 16;
const HKDF_INFO = "wicked/portal-ui/cookie-encryption/aes-256-gcm";

/**
 * Encrypts and authenticates cookie values (AES-256-GCM, a random 96-bit IV per cookie) under keys derived
 * with HKDF-SHA256 from the portal's cookie keys: the first key seals, every key opens. The cookie's name is
 * authenticated with the value (a value cannot be moved to another cookie), and the value carries its expiry
 * (a copied cookie stops working when the browser's would have). A value is base64url(IV ‖ ciphertext ‖ tag).
 */
export class CookieSealer {
  private readonly sealKey: Buffer;
  private readonly keys: Buffer[];

  constructor(
    cookieKeys: readonly string[],
    /** "Now" in milliseconds since the epoch. */
    private readonly now: () => number = Date.now,
  ) {
    const [sealKey, ...older] = cookieKeys.map((key) =>
      Buffer.from(hkdfSync("sha256", key, "", HKDF_INFO, 32)),
    );
    if (!sealKey) throw new Error("The portal UI needs at least one cookie key.");
    this.sealKey = sealKey;
    this.keys = [sealKey, ...older];
  }

  /** The sealed value of cookie `name`, valid for `maxAgeS` seconds. */
  seal(name: string, value: unknown, maxAgeS: number): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.sealKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(name, "utf8"));
    const plaintext = JSON.stringify({ exp: this.now() + maxAgeS * 1000, value });
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return Buffer.concat([iv, ciphertext, cipher.getAuthTag()]).toString("base64url");
  }

  /** The value of cookie `name`; undefined when it was not sealed by one of the keys, was changed, or expired. */
  open(name: string, sealed: string): unknown {
    const bytes = Buffer.from(sealed, "base64url");
    if (bytes.length <= IV_BYTES + TAG_BYTES) return undefined;
    const iv = bytes.subarray(0, IV_BYTES);
    const ciphertext = bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES);
    const tag = bytes.subarray(bytes.length - TAG_BYTES);
    for (const key of this.keys) {
      let plaintext: string;
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(name, "utf8"));
        decipher.setAuthTag(tag);
        plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("utf8");
      } catch {
        continue;
      }
      const envelope = parseJson(plaintext);
      if (!isObject(envelope) || typeof envelope.exp !== "number" || envelope.exp <= this.now()) {
        return undefined;
      }
      return envelope.value;
    }
    return undefined;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function encode(reply: FastifyReply, name: string, value: unknown, maxAgeS: number): string {
  return reply.server.cookieSealer.seal(name, value, maxAgeS);
}

function decode<T>(
  request: FastifyRequest,
  name: string,
  check: (value: unknown) => value is T,
): T | undefined {
  const cookie = request.cookies[name];
  if (!cookie) return undefined;
  const value = request.server.cookieSealer.open(name, cookie);
  return check(value) ? value : undefined;
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
  return { path: "/", httpOnly: true, sameSite: "lax" as const, secure: flags.secure, maxAge };
}

/** The session of a request, if it carries a valid one. */
export function readSession(request: FastifyRequest): Session | undefined {
  return decode(request, COOKIES.session, isSession);
}

/** Stores the session. */
export function writeSession(reply: FastifyReply, flags: CookieFlags, session: Session): void {
  reply.setCookie(
    COOKIES.session,
    encode(reply, COOKIES.session, session, SESSION_MAX_AGE_S),
    options(flags, SESSION_MAX_AGE_S),
  );
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
  reply.setCookie(COOKIES.login, encode(reply, COOKIES.login, state, 600), options(flags, 600));
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
  reply.setCookie(COOKIES.flash, encode(reply, COOKIES.flash, flash, 120), options(flags, 120));
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
