import { describe, expect, it } from "vitest";
import { firstPartyClientSecret } from "../auth-server/keys.ts";
import { derivedClientSecret, PORTAL_UI_CLIENT_ID } from "./config.ts";
import { cspDirectives, cspHeader } from "./security.ts";
import { safeReturnTo } from "./session.ts";
import { cookieHeader, csrfTokenOf, offlinePortalUi, testUiConfig } from "./test-support.ts";

const emptyPage = { items: [], page: 1, pageSize: 20, total: 0 };

describe("security headers", () => {
  it("sends a strict Content-Security-Policy: own scripts and styles only, no inline code, no framing", async () => {
    const ui = await offlinePortalUi(() => [200, emptyPage]);
    const res = await ui.app.inject({ method: "GET", url: "/" });
    await ui.stop();
    expect(res.statusCode).toBe(200);
    const csp = String(res.headers["content-security-policy"]);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("base-uri 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["cache-control"]).toBe("no-store");
    // The page itself has no inline script or style to allow.
    expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(res.body).not.toMatch(/\sstyle="/);
    expect(res.body).not.toMatch(/\son[a-z]+="/);
  });

  it("lets forms post to the auth server only when it is another origin (logout redirects there)", () => {
    const same = cspDirectives({ portal: "https://dev.example.com", auth: "https://dev.example.com/auth" });
    expect(same["form-action"]).toEqual(["'self'"]);
    expect(same["upgrade-insecure-requests"]).toEqual([]);
    const other = cspDirectives({ portal: "http://127.0.0.1:3000", auth: "http://127.0.0.1:3010/auth" });
    expect(other["form-action"]).toEqual(["'self'", "http://127.0.0.1:3010"]);
    expect(other["upgrade-insecure-requests"]).toBeUndefined();
    expect(cspHeader({ a: ["x", "y"], b: [] })).toBe("a x y; b");
  });
});

describe("CSRF protection", () => {
  it("refuses a form post without the token, with a readable page, and never reaches the portal API", async () => {
    const ui = await offlinePortalUi(() => [202, { status: "accepted", detail: "Check your mail." }]);
    const res = await ui.app.inject({
      method: "POST",
      url: "/signup",
      payload: "email=a%40example.com&displayName=A&password=correct-horse-battery",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    await ui.stop();
    expect(res.statusCode).toBe(403);
    expect(res.body).toContain("The form has expired");
    expect(ui.calls.filter((c) => c.path === "/accounts")).toHaveLength(0);
  });

  it("refuses a token from another browser (its secret cookie missing) and accepts the page's own", async () => {
    const ui = await offlinePortalUi((method, path) =>
      method === "POST" && path === "/accounts"
        ? [202, { status: "accepted", detail: "Check your mail." }]
        : [200, emptyPage],
    );
    const form = await ui.app.inject({ method: "GET", url: "/signup" });
    const token = csrfTokenOf(form.body);
    const cookies = cookieHeader(form.headers["set-cookie"]);
    const payload = `_csrf=${encodeURIComponent(token)}&email=a%40example.com&displayName=Ann&password=correct-horse-battery`;
    const headers = { "content-type": "application/x-www-form-urlencoded" };
    const stolen = await ui.app.inject({ method: "POST", url: "/signup", payload, headers });
    expect(stolen.statusCode).toBe(403);
    const own = await ui.app.inject({
      method: "POST",
      url: "/signup",
      payload,
      headers: { ...headers, cookie: cookies },
    });
    await ui.stop();
    expect(own.statusCode).toBe(200);
    expect(own.body).toContain("Check your inbox");
    expect(ui.calls.find((c) => c.path === "/accounts")?.body).toEqual({
      email: "a@example.com",
      displayName: "Ann",
      password: "correct-horse-battery",
    });
  });
});

describe("pages", () => {
  it("shows what users typed as text: an API name with a script tag renders escaped", async () => {
    const evil = `<script>alert("pwned")</script><img src=x onerror=alert(1)>`;
    const ui = await offlinePortalUi(() => [
      200,
      {
        items: [
          {
            name: "x",
            displayName: evil,
            description: evil,
            auth: "key-auth",
            tags: [evil],
            deprecated: false,
            requiredGroup: null,
            plans: [],
          },
        ],
        page: 1,
        pageSize: 12,
        total: 1,
      },
    ]);
    const res = await ui.app.inject({ method: "GET", url: `/apis?q=${encodeURIComponent(evil)}` });
    await ui.stop();
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain('<script>alert("pwned")');
    expect(res.body).not.toContain("<img src=x");
    expect(res.body).toContain("&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;");
  });

  it("shows a refusal of the portal API as its readable message and field problems", async () => {
    const ui = await offlinePortalUi((method, path) =>
      method === "POST" && path === "/accounts"
        ? [
            400,
            {
              type: "https://wicked.dev/problems/weak-password",
              title: "Bad request",
              status: 400,
              detail: "Choose a stronger password: Use at least 12 characters (this one has 5).",
              errors: [{ path: "/password", message: "Use at least 12 characters (this one has 5)." }],
            },
          ]
        : [200, emptyPage],
    );
    const form = await ui.app.inject({ method: "GET", url: "/signup" });
    const res = await ui.app.inject({
      method: "POST",
      url: "/signup",
      payload: `_csrf=${encodeURIComponent(csrfTokenOf(form.body))}&email=a%40example.com&displayName=Ann&password=short`,
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        cookie: cookieHeader(form.headers["set-cookie"]),
      },
    });
    await ui.stop();
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('role="alert"');
    expect(res.body).toContain("Choose a stronger password");
    expect(res.body).toContain('aria-invalid="true"');
    // The typed values come back; the password never does.
    expect(res.body).toContain('value="Ann"');
    expect(res.body).not.toContain('value="short"');
  });

  it("has a skip link, landmarks and labelled fields", async () => {
    const ui = await offlinePortalUi(() => [200, emptyPage]);
    const res = await ui.app.inject({ method: "GET", url: "/signup" });
    await ui.stop();
    expect(res.body).toContain('<a class="skip-link" href="#main">');
    expect(res.body).toContain('<main id="main"');
    expect(res.body).toContain('<nav class="main-nav" aria-label="Main">');
    for (const id of ["f-displayName", "f-email", "f-password"])
      expect(res.body).toContain(`<label for="${id}">`);
  });

  it("serves the primary colour as a theme stylesheet and renders content pages from markdown", async () => {
    const ui = await offlinePortalUi(
      () => [200, emptyPage],
      testUiConfig({ branding: { primaryColor: "#0F766E" } }),
    );
    const theme = await ui.app.inject({ method: "GET", url: "/assets/theme.css" });
    const page = await ui.app.inject({ method: "GET", url: "/pages/getting-started" });
    const missing = await ui.app.inject({ method: "GET", url: "/pages/nope" });
    await ui.stop();
    expect(theme.headers["content-type"]).toContain("text/css");
    expect(theme.body).toContain("--brand:#0f766e");
    expect(page.body).toContain("<h2>Welcome</h2>");
    expect(missing.statusCode).toBe(404);
  });

  it("sends visitors of member pages to the login, and starts the login with PKCE", async () => {
    const ui = await offlinePortalUi();
    const apps = await ui.app.inject({ method: "GET", url: "/applications" });
    expect(apps.statusCode).toBe(303);
    expect(apps.headers.location).toBe("/login?returnTo=%2Fapplications");
    const login = await ui.app.inject({ method: "GET", url: "/login?returnTo=%2Fapplications" });
    expect(login.headers.location).toBe("/login/start?returnTo=%2Fapplications");
    const start = await ui.app.inject({ method: "GET", url: login.headers.location as string });
    await ui.stop();
    expect(start.statusCode).toBe(302);
    expect(String(start.headers.location)).toMatch(/^https:\/\/auth\.test\/authorize\?state=/);
    expect(String(start.headers["set-cookie"])).toMatch(/wicked_ui_login=[^;]+;.*HttpOnly/);
  });
});

describe("login with upstream providers", () => {
  it("offers local login and each provider, and starts the chosen provider's login at the auth server", async () => {
    const config = testUiConfig({
      login: {
        local: { enabled: true, allowSignup: true },
        providers: [{ name: "corp", displayName: "Corp <SSO>" }],
      },
    });
    const ui = await offlinePortalUi(() => [200, emptyPage], config);
    const page = await ui.app.inject({ method: "GET", url: "/login" });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("Log in with email and password");
    expect(page.body).toContain('href="/login/start?provider=corp"');
    expect(page.body).toContain("Continue with Corp &lt;SSO&gt;");
    const start = await ui.app.inject({ method: "GET", url: "/login/start?provider=corp" });
    const unknown = await ui.app.inject({ method: "GET", url: "/login/start?provider=evil" });
    await ui.stop();
    expect(new URL(String(start.headers.location)).searchParams.get("idp")).toBe("corp");
    expect(new URL(String(unknown.headers.location)).searchParams.get("idp")).toBeNull();
  });
});

describe("configuration", () => {
  it("derives the same client secret as the auth server", () => {
    expect(derivedClientSecret("a-session-key-of-enough-length")).toBe(
      firstPartyClientSecret("a-session-key-of-enough-length", PORTAL_UI_CLIENT_ID),
    );
  });

  it("returns after login only to paths on this site", () => {
    expect(safeReturnTo("/apis/orders?x=1")).toBe("/apis/orders?x=1");
    expect(safeReturnTo("//evil.example")).toBe("/");
    expect(safeReturnTo("/\\evil.example")).toBe("/");
    expect(safeReturnTo("https://evil.example")).toBe("/");
    expect(safeReturnTo(undefined)).toBe("/");
  });
});
