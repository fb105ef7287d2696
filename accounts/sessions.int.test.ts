/**
 * Security finding 9 (sessions): a password change or reset ends every session of the account at the auth
 * server, revokes every grant and refresh token, and voids logins in flight, so whoever knew the old password
 * is logged out everywhere. Against the auth server and the portal API over HTTP (test/support/portal-stack.ts).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Browser, formWithAction } from "../test/support/oidc-browser.ts";
import { type PortalStack, startPortalStack, type TokenSet } from "../test/support/portal-stack.ts";

const OLD = "correct horse battery staple";
const NEW = "a completely new passphrase";

let stack: PortalStack;

beforeAll(async () => {
  stack = await startPortalStack({
    kubeconfig: inject("kubeconfig"),
    databaseUrl: inject("databaseUrl"),
    namespacePrefix: "sessions",
  });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

/** Signs up and verifies an account through the portal API. */
async function verifiedUser(email: string): Promise<void> {
  expect(
    (await stack.call("POST", "/accounts", { body: { email, displayName: "Dev", password: OLD } })).status,
  ).toBe(202);
  const event = (await stack.outbox()).filter((e) => "email" in e && e.email === email).at(-1);
  const token = event && "verifyToken" in event ? event.verifyToken : null;
  expect((await stack.call("POST", "/accounts/verify", { body: { token } })).status).toBe(200);
}

/** A browser logged in at the auth server, and the portal UI's tokens of that login. */
async function loggedIn(email: string): Promise<{ browser: Browser; tokens: TokenSet }> {
  const browser = new Browser();
  return { browser, tokens: await stack.login(email, OLD, browser) };
}

/** A login whose password was accepted but whose authorization was not resumed yet: the resume URL. */
async function loginInFlight(email: string): Promise<{ browser: Browser; resume: string }> {
  const browser = new Browser();
  const { page } = await stack.authorize(browser);
  const form = formWithAction(page, "/login");
  const posted = await browser.request(form.action, { form: { ...form.fields, email, password: OLD } });
  expect(posted.status).toBe(303);
  if (!posted.location) throw new Error("the login did not redirect");
  return { browser, resume: posted.location };
}

/** The token endpoint's answer to a refresh. */
async function refresh(tokens: TokenSet): Promise<{ status: number; error: unknown }> {
  const res = await stack.token({ grant_type: "refresh_token", refresh_token: tokens.refresh_token ?? "" });
  return { status: res.status, error: res.json.error };
}

/** Whether the redirect ends at the portal UI with an authorization code (a login without a password). */
function issuesCode(location: string | undefined): boolean {
  return (
    location?.startsWith(stack.portalUi.redirectUri) === true && new URL(location).searchParams.has("code")
  );
}

/** Whether the browser's auth server session logs it in without asking for the password. */
async function logsInSilently(browser: Browser): Promise<boolean> {
  const { page } = await stack.authorize(browser);
  if (issuesCode(page.location)) return true;
  expect(formWithAction(page, "/login").fields).toHaveProperty("email");
  return false;
}

/** Whether resuming a login in flight still ends with an authorization code. */
async function resumes(flight: { browser: Browser; resume: string }): Promise<boolean> {
  const end = await flight.browser.follow(flight.resume, {}, (url) =>
    url.startsWith(stack.portalUi.redirectUri),
  );
  return issuesCode(end.location);
}

describe("revoking an account's sessions", () => {
  it("security #9: a password change revokes the refresh tokens and the auth server sessions of every device, and voids logins in flight", async () => {
    const email = "changer@example.com";
    await verifiedUser(email);
    await verifiedUser("bystander@example.com");
    const laptop = await loggedIn(email);
    const phone = await loggedIn(email);
    const bystander = await stack.login("bystander@example.com", OLD);
    const flight = await loginInFlight(email);
    // Access tokens are JWTs the portal API verifies offline: they live on until they expire, 15 minutes at
    // most; the refresh that would extend a session is what the change revokes.
    expect(laptop.tokens.expires_in).toBeLessThanOrEqual(15 * 60);

    const changed = await stack.call("POST", "/me/password", {
      token: laptop.tokens.access_token,
      body: { currentPassword: OLD, newPassword: NEW },
    });
    expect(changed.status).toBe(204);

    expect(await refresh(laptop.tokens)).toEqual({ status: 400, error: "invalid_grant" });
    expect(await refresh(phone.tokens)).toEqual({ status: 400, error: "invalid_grant" });
    expect(await logsInSilently(laptop.browser)).toBe(false);
    expect(await logsInSilently(phone.browser)).toBe(false);
    expect(await resumes(flight)).toBe(false);
    // Another account keeps its session.
    expect((await refresh(bystander)).status).toBe(200);
    await expect(stack.login(email, OLD)).rejects.toThrow(/Login of/);
    expect((await stack.login(email, NEW)).refresh_token).toBeTruthy();
  });

  it("security #9: a password reset revokes the refresh tokens and the auth server sessions of every device, and voids logins in flight", async () => {
    const email = "resetter@example.com";
    await verifiedUser(email);
    const laptop = await loggedIn(email);
    const flight = await loginInFlight(email);

    await stack.call("POST", "/accounts/password-reset", { body: { email } });
    const event = (await stack.outbox("PasswordResetRequested")).filter((e) => e.email === email).at(-1);
    const resetToken = event && "resetToken" in event ? event.resetToken : null;
    const done = await stack.call("POST", "/accounts/password-reset/confirm", {
      body: { token: resetToken, password: NEW },
    });
    expect(done.status).toBe(204);

    expect(await refresh(laptop.tokens)).toEqual({ status: 400, error: "invalid_grant" });
    expect(await logsInSilently(laptop.browser)).toBe(false);
    expect(await resumes(flight)).toBe(false);
    expect((await stack.login(email, NEW)).refresh_token).toBeTruthy();
  });
});
