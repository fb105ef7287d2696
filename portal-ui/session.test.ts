import { describe, expect, it } from "vitest";
import type { OidcClient } from "./oidc.ts";
import { COOKIES } from "./session.ts";
import { cookieHeader, fakeOidc, offlinePortalUi, testUiConfig } from "./test-support.ts";

const EMAIL = "dana@example.com";
const REFRESH_TOKEN = "refresh-token-of-dana-Xq3v9Lr2Tz8Kp1Wm5Ny7";
const ACCESS_TOKEN = "eyJhbGciOiJSUzI1NiJ9.access-token-of-dana.c2lnbmF0dXJl";
const KEY_A = "the-first-cookie-key-0123456789";
const KEY_B = "the-second-cookie-key-0123456789";

/** An auth server that completes every login with Dana's tokens. */
const danasLogin: OidcClient = {
  ...fakeOidc,
  async finish() {
    return {
      accessToken: ACCESS_TOKEN,
      expiresAt: Math.floor(Date.now() / 1000) + 900,
      refreshToken: REFRESH_TOKEN,
      claims: { sub: "u-1", email: EMAIL, name: "Dana" },
    };
  },
};

const portalApi = (_method: string, path: string): [number, unknown] => {
  if (path === "/me") {
    return [
      200,
      {
        id: "0b6f3c52-6d8e-4f5a-9a43-1f2e3d4c5b6a",
        email: EMAIL,
        displayName: "Dana",
        groups: [],
        permissions: { admin: false, approver: false },
        scopes: ["portal.read"],
      },
    ];
  }
  return [200, { items: [], page: 1, pageSize: 20, total: 0 }];
};

/** Logs Dana in through the UI's login round trip; returns the browser's cookies and the session cookie. */
async function logIn(cookieKeys: string[]): Promise<{ cookies: string; session: string }> {
  const ui = await offlinePortalUi(portalApi, testUiConfig(), { oidc: danasLogin, cookieKeys });
  const start = await ui.app.inject({ method: "GET", url: "/login/start" });
  const state = new URL(String(start.headers.location)).searchParams.get("state");
  const callback = await ui.app.inject({
    method: "GET",
    url: `/login/callback?code=the-code&state=${state}`,
    headers: { cookie: cookieHeader(start.headers["set-cookie"]) },
  });
  await ui.stop();
  expect(callback.statusCode).toBe(303);
  const cookies = cookieHeader(callback.headers["set-cookie"]);
  const session = new RegExp(`${COOKIES.session}=([^;]+)`).exec(cookies)?.[1];
  if (!session) throw new Error(`the login set no session cookie: ${cookies}`);
  return { cookies, session };
}

/** Every reading of a cookie value someone who got hold of it would try. */
function readings(value: string): string[] {
  const texts = [value, decodeURIComponent(value)];
  for (const text of [...texts]) {
    for (const part of [text, ...text.split(/[.:~]/)]) {
      texts.push(Buffer.from(part, "base64url").toString("latin1"));
      texts.push(Buffer.from(part, "base64").toString("latin1"));
    }
  }
  return texts;
}

/** Where a member page sends the browser with these cookies. */
async function accountPage(
  cookieKeys: string[],
  cookie: string,
): Promise<{ status: number; location?: string }> {
  const ui = await offlinePortalUi(portalApi, testUiConfig(), { cookieKeys });
  const res = await ui.app.inject({ method: "GET", url: "/account", headers: { cookie } });
  await ui.stop();
  return { status: res.statusCode, location: res.headers.location as string | undefined };
}

describe("the session cookie", () => {
  it("security #9: holds the tokens and the user's email in no decodable form, and a tampered cookie is no session", async () => {
    const { session } = await logIn([KEY_A]);
    for (const text of readings(session)) {
      expect(text).not.toContain(REFRESH_TOKEN);
      expect(text).not.toContain("access-token-of-dana");
      expect(text).not.toContain(EMAIL);
      expect(text).not.toContain("Dana");
    }
    expect(await accountPage([KEY_A], `${COOKIES.session}=${session}`)).toEqual({ status: 200 });

    const raw = decodeURIComponent(session);
    const middle = Math.floor(raw.length / 2);
    const flipped = raw[middle] === "A" ? "B" : "A";
    const tampered = encodeURIComponent(`${raw.slice(0, middle)}${flipped}${raw.slice(middle + 1)}`);
    expect(await accountPage([KEY_A], `${COOKIES.session}=${tampered}`)).toMatchObject({
      status: 303,
      location: "/login?returnTo=%2Faccount",
    });
    expect(await accountPage([KEY_A], `${COOKIES.session}=${session.slice(0, 40)}`)).toMatchObject({
      status: 303,
    });
  });

  it("keeps sessions of the previous cookie key after a rotation, and ends them once that key is removed", async () => {
    const { session } = await logIn([KEY_A]);
    expect(await accountPage([KEY_B, KEY_A], `${COOKIES.session}=${session}`)).toEqual({ status: 200 });
    expect(await accountPage([KEY_B], `${COOKIES.session}=${session}`)).toMatchObject({ status: 303 });
  });
});
