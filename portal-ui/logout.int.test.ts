/**
 * Security finding 9 (sessions): logging out of the portal UI revokes the session's refresh token (and with it
 * the grant) at the auth server, not only the cookie, and sends the browser on to end the auth server's
 * session. The portal UI runs in this process with its real OIDC client against the auth server and portal
 * API of test/support/portal-stack.ts; the auth server's pages are driven with the scripted browser.
 */
import { sql } from "kysely";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Browser, formWithAction } from "../test/support/oidc-browser.ts";
import { type PortalStack, startPortalStack } from "../test/support/portal-stack.ts";
import { readPortalUiSecrets } from "./config.ts";
import { createPortalUi, type PortalUi } from "./main.ts";
import { COOKIES } from "./session.ts";
import { cookieHeader, csrfTokenOf, testUiConfig } from "./test-support.ts";

const PASSWORD = "correct horse battery staple";

let stack: PortalStack;
let ui: PortalUi;

beforeAll(async () => {
  stack = await startPortalStack({
    kubeconfig: inject("kubeconfig"),
    databaseUrl: inject("databaseUrl"),
    namespacePrefix: "ui-logout",
  });
  ui = await createPortalUi({
    config: testUiConfig({ urls: stack.urls }),
    secrets: readPortalUiSecrets(stack.secretsDir),
    logger: pino({ level: "silent" }),
    trustProxy: false,
  });
}, 180_000);

afterAll(async () => {
  await ui?.stop();
  await stack?.stop();
});

/** Signs up and verifies an account through the portal API; its user id. */
async function verifiedUser(email: string): Promise<string> {
  expect(
    (await stack.call("POST", "/accounts", { body: { email, displayName: "Dev", password: PASSWORD } }))
      .status,
  ).toBe(202);
  const event = (await stack.outbox()).filter((e) => "email" in e && e.email === email).at(-1);
  const token = event && "verifyToken" in event ? event.verifyToken : null;
  expect((await stack.call("POST", "/accounts/verify", { body: { token } })).status).toBe(200);
  const user = await stack.db.selectFrom("users").select("id").where("email", "=", email).executeTakeFirst();
  if (!user) throw new Error(`no user ${email}`);
  return user.id;
}

/** Logs in through the portal UI: its cookies, and the browser that holds the auth server's session. */
async function logIn(email: string): Promise<{ cookies: string; browser: Browser }> {
  const start = await ui.app.inject({ method: "GET", url: "/login/start" });
  const browser = new Browser();
  const page = await browser.follow(String(start.headers.location));
  const end = await stack.submitLogin(browser, page, email, PASSWORD);
  if (!end.location?.startsWith(stack.portalUi.redirectUri))
    throw new Error(`the login ended at ${end.url} (${end.status}): ${end.body.slice(0, 500)}`);
  const callback = await ui.app.inject({
    method: "GET",
    url: `/login/callback${new URL(end.location).search}`,
    headers: { cookie: cookieHeader(start.headers["set-cookie"]) },
  });
  expect(callback.statusCode).toBe(303);
  const cookies = cookieHeader(callback.headers["set-cookie"]);
  expect(cookies).toContain(`${COOKIES.session}=`);
  return { cookies, browser };
}

/** The refresh token the auth server issued the portal UI for a user (opaque tokens are their row id). */
async function liveRefreshToken(userId: string): Promise<string> {
  const row = await stack.db
    .selectFrom("oidc_payloads")
    .select("id")
    .where("model", "=", "RefreshToken")
    .where("consumed_at", "is", null)
    .where(sql<string>`payload->>'accountId'`, "=", userId)
    .executeTakeFirst();
  if (!row) throw new Error(`no refresh token of ${userId}`);
  return row.id;
}

describe("logging out of the portal UI", () => {
  it("security #9: revokes the refresh token at the auth server, clears the session, and ends the auth server's session", async () => {
    const userId = await verifiedUser("leaver@example.com");
    const { cookies, browser } = await logIn("leaver@example.com");
    const refreshToken = await liveRefreshToken(userId);

    const account = await ui.app.inject({ method: "GET", url: "/account", headers: { cookie: cookies } });
    expect(account.statusCode).toBe(200);
    const withCsrf = cookieHeader(account.headers["set-cookie"], cookies);
    const logout = await ui.app.inject({
      method: "POST",
      url: "/logout",
      headers: { cookie: withCsrf, "content-type": "application/x-www-form-urlencoded" },
      payload: new URLSearchParams({ _csrf: csrfTokenOf(account.body) }).toString(),
    });
    expect(logout.statusCode).toBe(303);

    const refreshed = await stack.token({ grant_type: "refresh_token", refresh_token: refreshToken });
    expect(refreshed).toMatchObject({ status: 400, json: { error: "invalid_grant" } });
    const after = cookieHeader(logout.headers["set-cookie"], withCsrf);
    expect(after).not.toContain(`${COOKIES.session}=`);
    const again = await ui.app.inject({ method: "GET", url: "/account", headers: { cookie: after } });
    expect(again.statusCode).toBe(303);

    // The browser goes on to the auth server's end-session endpoint, confirms, and is logged out there too.
    const endSession = String(logout.headers.location);
    expect(endSession.startsWith(`${stack.urls.auth}/session/end`)).toBe(true);
    const confirm = await browser.follow(endSession);
    const form = formWithAction(confirm, "/session/end/confirm");
    const done = await browser.follow(form.action, { form: { ...form.fields, logout: "yes" } }, (url) =>
      url.startsWith(stack.urls.portal),
    );
    expect(done.location).toBe(stack.urls.portal);
    const { page } = await stack.authorize(browser);
    expect(formWithAction(page, "/login").fields).toHaveProperty("email");
  });
});
