import { describe, expect, it } from "vitest";
import { LoginError, type OidcClient } from "./oidc.ts";
import { COOKIES, type CookieSealer } from "./session.ts";
import { cookieHeader, csrfTokenOf, fakeOidc, offlinePortalUi, testUiConfig } from "./test-support.ts";

const me = {
  id: "0b6f3c52-6d8e-4f5a-9a43-1f2e3d4c5b6a",
  email: "dana@example.com",
  displayName: "Dana",
  groups: [],
  permissions: { admin: false, approver: false },
  scopes: ["portal.read", "portal.write"],
};

const portalApi = (method: string, path: string): [number, unknown] => {
  if (path === "/me") return [200, me];
  if (method === "POST" && path === "/me/password") return [204, null];
  return [200, { items: [], page: 1, pageSize: 20, total: 0 }];
};

/** Dana's session cookie with a refresh token. */
function sessionCookie(ui: { app: { cookieSealer: CookieSealer } }): string {
  const session = {
    user: { id: me.id, email: me.email, name: me.displayName, admin: false, approver: false },
    accessToken: "access-token-of-dana",
    expiresAt: Math.floor(Date.now() / 1000) + 600,
    refreshToken: "refresh-token-of-dana",
  };
  return `${COOKIES.session}=${ui.app.cookieSealer.seal(COOKIES.session, session, 3600)}`;
}

/** Posts a form of the account page as Dana; the response and the cookies after it. */
async function postAsDana(
  oidc: OidcClient,
  url: string,
  form: Record<string, string> = {},
): Promise<{ status: number; location: unknown; cookies: string }> {
  const ui = await offlinePortalUi(portalApi, testUiConfig(), { oidc });
  const cookie = sessionCookie(ui);
  const page = await ui.app.inject({ method: "GET", url: "/account", headers: { cookie } });
  const cookies = cookieHeader(page.headers["set-cookie"], cookie);
  const res = await ui.app.inject({
    method: "POST",
    url,
    headers: { cookie: cookies, "content-type": "application/x-www-form-urlencoded" },
    payload: new URLSearchParams({ ...form, _csrf: csrfTokenOf(page.body) }).toString(),
  });
  await ui.stop();
  return {
    status: res.statusCode,
    location: res.headers.location,
    cookies: cookieHeader(res.headers["set-cookie"], cookies),
  };
}

describe("ending a session in the portal UI", () => {
  it("security #9: logout revokes the session's refresh token at the auth server and clears the cookie", async () => {
    const revoked: string[] = [];
    const out = await postAsDana(
      { ...fakeOidc, revoke: async (token) => void revoked.push(token) },
      "/logout",
    );
    expect(revoked).toEqual(["refresh-token-of-dana"]);
    expect(out.status).toBe(303);
    expect(out.cookies).not.toContain(`${COOKIES.session}=`);
  });

  it("logs out in this browser even when the auth server cannot revoke", async () => {
    const out = await postAsDana(
      {
        ...fakeOidc,
        async revoke() {
          throw new LoginError("The refresh token could not be revoked (connection refused).");
        },
      },
      "/logout",
    );
    expect(out.status).toBe(303);
    expect(out.cookies).not.toContain(`${COOKIES.session}=`);
  });

  it("security #9: a password change logs this browser out too (the auth server ended every session of the account)", async () => {
    const out = await postAsDana(fakeOidc, "/account/password", {
      currentPassword: "correct horse battery staple",
      newPassword: "a completely new passphrase",
    });
    expect(out.status).toBe(303);
    expect(out.location).toBe("/");
    expect(out.cookies).not.toContain(`${COOKIES.session}=`);
  });
});
