import { describe, expect, it } from "vitest";
import { firstPartyClientSecret } from "../auth-server/keys.ts";
import { derivedClientSecret, PORTAL_UI_CLIENT_ID } from "./config.ts";
import { apiDocsCspDirectives, cspDirectives, cspHeader } from "./security.ts";
import { COOKIES, type CookieSealer, safeReturnTo } from "./session.ts";
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

/** A session cookie, as the login callback would set it. */
function sessionCookie(
  ui: { app: { cookieSealer: CookieSealer } },
  user: Partial<{ admin: boolean; approver: boolean }> = {},
): string {
  const session = {
    user: { id: "u-1", email: "dana@example.com", name: "Dana", admin: false, approver: false, ...user },
    accessToken: "access-token-of-dana",
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
  };
  return `${COOKIES.session}=${ui.app.cookieSealer.seal(COOKIES.session, session, 3600)}`;
}

describe("interactive API docs", () => {
  const gateway = "https://api.example.com";
  const detail = {
    name: "orders",
    displayName: "Orders",
    description: "",
    auth: "key-auth",
    tags: [],
    deprecated: false,
    requiredGroup: null,
    plans: ["free"],
    baseUrl: `${gateway}/orders`,
    scopes: [],
    flows: [],
    planDetails: [],
    hasOpenApi: true,
  };
  const doc = {
    openapi: "3.0.3",
    info: { title: "Orders", version: "1" },
    servers: [{ url: `${gateway}/orders` }],
    paths: { "/items": { get: { responses: { "200": { description: "ok" } } } } },
    components: { securitySchemes: { apiKey: { type: "apiKey", in: "header", name: "X-Api-Key" } } },
  };
  const portalApi = (role: "Owner" | "Reader") => (_method: string, path: string) => {
    if (path === "/apis/orders") return [200, detail] as [number, unknown];
    if (path === "/apis/orders/openapi") return [200, doc] as [number, unknown];
    if (path.startsWith("/subscriptions?"))
      return [
        200,
        {
          items: [
            {
              name: "orders-sub",
              application: "shop",
              api: "orders",
              plan: "free",
              phase: "Active",
              approval: "Approved",
              credentialsReady: true,
            },
          ],
          page: 1,
          pageSize: 100,
          total: 1,
        },
      ] as [number, unknown];
    if (path.startsWith("/applications?"))
      return [
        200,
        {
          items: [
            {
              name: "shop",
              displayName: "Storefront",
              owner: "dana@example.com",
              clientType: "confidential",
              redirectUris: [],
              collaborators: [],
              clientId: null,
              role,
            },
          ],
          page: 1,
          pageSize: 100,
          total: 1,
        },
      ] as [number, unknown];
    if (path === "/subscriptions/orders-sub/credentials")
      return [
        200,
        { subscription: "orders-sub", type: "key-auth", apiKey: "the-secret-key", keyHeader: "X-Api-Key" },
      ] as [number, unknown];
    return [404, { title: "Not found", status: 404, detail: "No such thing." }] as [number, unknown];
  };

  it("serves Swagger UI from the installed package under /assets/swagger-ui/, cached for a year when versioned", async () => {
    const ui = await offlinePortalUi(portalApi("Owner"));
    const page = await ui.app.inject({ method: "GET", url: "/apis/orders/docs" });
    const bundleUrl = /src="(\/assets\/swagger-ui\/swagger-ui-bundle\.js\?v=[0-9a-f]+)"/.exec(page.body)?.[1];
    const cssUrl = /href="(\/assets\/swagger-ui\/swagger-ui\.css\?v=[0-9a-f]+)"/.exec(page.body)?.[1];
    expect(bundleUrl).toBeDefined();
    expect(cssUrl).toBeDefined();
    const bundle = await ui.app.inject({ method: "GET", url: bundleUrl ?? "" });
    const css = await ui.app.inject({ method: "GET", url: cssUrl ?? "" });
    const unversioned = await ui.app.inject({ method: "GET", url: "/assets/swagger-ui/swagger-ui.css" });
    const other = await ui.app.inject({ method: "GET", url: "/assets/swagger-ui/package.json" });
    await ui.stop();
    expect(bundle.statusCode).toBe(200);
    expect(bundle.headers["content-type"]).toContain("text/javascript");
    expect(bundle.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(bundle.body).toContain("SwaggerUIBundle");
    expect(css.headers["content-type"]).toContain("text/css");
    expect(css.body).toContain(".swagger-ui");
    expect(unversioned.headers["cache-control"]).toBe("public, max-age=300");
    expect(other.statusCode).toBe(404);
  });

  it("renders the docs page under a CSP that lets scripts come only from the portal and calls reach the gateway", async () => {
    const ui = await offlinePortalUi(portalApi("Owner"));
    const res = await ui.app.inject({
      method: "GET",
      url: "/apis/orders/docs",
      headers: { cookie: sessionCookie(ui) },
    });
    await ui.stop();
    expect(res.statusCode).toBe(200);
    const csp = String(res.headers["content-security-policy"]);
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).toContain(`connect-src 'self' ${gateway};`);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(res.body).toContain('data-config="/apis/orders/docs.json"');
    expect(res.body).toContain('src="/assets/api-docs.js?v=');
    expect(res.body).toContain("The API key of <strong>Storefront</strong> is filled in");
    // No inline script, and the key is never in the HTML.
    expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(res.body).not.toContain("the-secret-key");
  });

  it("hands the docs script the rewritten document and the owner's key, never cached", async () => {
    const ui = await offlinePortalUi(portalApi("Owner"));
    const owner = await ui.app.inject({
      method: "GET",
      url: "/apis/orders/docs.json",
      headers: { cookie: sessionCookie(ui) },
    });
    const anonymous = await ui.app.inject({ method: "GET", url: "/apis/orders/docs.json" });
    await ui.stop();
    expect(owner.statusCode).toBe(200);
    expect(owner.headers["cache-control"]).toBe("no-store");
    expect(owner.headers["content-type"]).toContain("application/json");
    const config = owner.json() as { spec: unknown; auth: unknown; oauth2RedirectUrl: string };
    expect(config.spec).toEqual(doc);
    expect(config.auth).toEqual({
      type: "apiKey",
      scheme: "apiKey",
      key: "the-secret-key",
      application: "Storefront",
    });
    expect(config.oauth2RedirectUrl).toBe(
      "https://developer.example.com/assets/swagger-ui/oauth2-redirect.html",
    );
    expect(ui.calls.find((c) => c.path === "/subscriptions/orders-sub/credentials")?.auth).toBe(
      "Bearer access-token-of-dana",
    );
    expect(anonymous.statusCode).toBe(200);
    expect(anonymous.headers["cache-control"]).toBe("no-store");
    expect((anonymous.json() as { auth?: unknown }).auth).toBeUndefined();
  });

  it("fills in nothing for a reader of the application, and says what went wrong as problem+json", async () => {
    const reader = await offlinePortalUi(portalApi("Reader"));
    const res = await reader.app.inject({
      method: "GET",
      url: "/apis/orders/docs.json",
      headers: { cookie: sessionCookie(reader) },
    });
    const missing = await reader.app.inject({ method: "GET", url: "/apis/nope/docs.json" });
    await reader.stop();
    expect((res.json() as { auth?: unknown }).auth).toBeUndefined();
    expect(reader.calls.some((c) => c.path.endsWith("/credentials"))).toBe(false);
    expect(missing.statusCode).toBe(404);
    expect(missing.headers["content-type"]).toContain("application/problem+json");
    expect((missing.json() as { detail: string }).detail).toBe("No such thing.");
  });

  it("links the API page to the interactive docs and keeps the server-rendered reference", async () => {
    const ui = await offlinePortalUi(portalApi("Owner"));
    const res = await ui.app.inject({ method: "GET", url: "/apis/orders" });
    await ui.stop();
    expect(res.body).toContain('href="/apis/orders/docs"');
    expect(res.body).toContain('id="reference"');
    expect(res.body).not.toContain("swagger-ui-bundle.js");
  });

  it("widens connect-src only by the given origins", () => {
    const directives = apiDocsCspDirectives(
      { portal: "https://dev.example.com", auth: "https://dev.example.com/auth" },
      [
        "https://api.example.com/orders",
        "https://dev.example.com/auth",
        "not a url",
        "https://auth.example.com/x",
      ],
    );
    expect(directives["connect-src"]).toEqual([
      "'self'",
      "https://api.example.com",
      "https://auth.example.com",
    ]);
    expect(directives["script-src"]).toEqual(["'self'"]);
    expect(directives["default-src"]).toEqual(["'none'"]);
  });
});

describe("approvals queue", () => {
  it("shows the application's title beside its name", async () => {
    const ui = await offlinePortalUi((_method, path) =>
      path.startsWith("/approvals")
        ? [
            200,
            {
              items: [
                {
                  name: "sub-1",
                  application: "storefront-1a2b3c4d",
                  applicationDisplayName: "Storefront <b>",
                  api: "billing",
                  plan: "partner",
                  phase: "PendingApproval",
                  approval: "Pending",
                  credentialsReady: false,
                  owner: "dana@example.com",
                  apiDisplayName: "Billing",
                  planDisplayName: "Partner",
                  requestedAt: "2025-01-01T00:00:00.000Z",
                },
              ],
              page: 1,
              pageSize: 20,
              total: 1,
            },
          ]
        : [200, emptyPage],
    );
    const res = await ui.app.inject({
      method: "GET",
      url: "/approvals",
      headers: { cookie: sessionCookie(ui, { approver: true }) },
    });
    await ui.stop();
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Storefront &lt;b&gt;<br><code class="muted">storefront-1a2b3c4d</code>');
    expect(res.body).toContain(
      'Approve<span class="visually-hidden"> Storefront &lt;b&gt; for Billing</span>',
    );
  });
});

describe("try it", () => {
  /** Two open Apis: one under the gateway's path, one routed by a host that is a cloud metadata address. */
  const detail = (name: string, baseUrl: string) => ({
    name,
    displayName: name,
    description: "",
    auth: "none",
    tags: [],
    deprecated: false,
    requiredGroup: null,
    plans: [],
    baseUrl,
    scopes: [],
    flows: [],
    planDetails: [],
    hasOpenApi: true,
  });
  const apis: Record<string, ReturnType<typeof detail>> = {
    orders: detail("orders", "https://api.example.com/orders"),
    metadata: detail("metadata", "https://169.254.169.254"),
  };
  const doc = (baseUrl: string) => ({
    openapi: "3.0.3",
    info: { title: "Api", version: "1" },
    servers: [{ url: baseUrl }],
    paths: {
      "/latest/meta-data": {
        get: { operationId: "read", responses: { "200": { description: "ok" } } },
      },
    },
  });
  const portalApi = (_method: string, path: string): [number, unknown] => {
    const [, name, rest] = /^\/apis\/([a-z]+)(\/openapi)?$/.exec(path) ?? [];
    const api = name ? apis[name] : undefined;
    if (api) return [200, rest ? doc(api.baseUrl) : api];
    if (path.startsWith("/applications?") || path.startsWith("/subscriptions?")) return [200, emptyPage];
    return [200, { ok: true }];
  };

  /** Posts the operation's try-it form of an Api as a logged-in visitor. */
  async function tryIt(ui: Awaited<ReturnType<typeof offlinePortalUi>>, name: string) {
    const session = sessionCookie(ui);
    const page = await ui.app.inject({ method: "GET", url: `/apis/${name}`, headers: { cookie: session } });
    const cookie = cookieHeader(page.headers["set-cookie"], session);
    return ui.app.inject({
      method: "POST",
      url: `/apis/${name}/try`,
      payload: `_csrf=${encodeURIComponent(csrfTokenOf(page.body))}&operation=read`,
      headers: { "content-type": "application/x-www-form-urlencoded", cookie },
    });
  }

  it("security #6: sends nothing to a host an Api's route names, only to the portal's gateway", async () => {
    const ui = await offlinePortalUi(portalApi);
    const orders = await tryIt(ui, "orders");
    const metadata = await tryIt(ui, "metadata");
    await ui.stop();
    expect(orders.statusCode).toBe(200);
    expect(metadata.statusCode).toBe(200);
    const sent = ui.calls.map((c) => new URL(c.url).host);
    expect(sent).not.toContain("169.254.169.254");
    expect(ui.calls.map((c) => c.url)).toContain("https://api.example.com/orders/latest/meta-data");
    expect(metadata.body).toContain("routed by host name");
  });

  it("security #6: lets the docs page of a host-routed Api connect only to the portal's gateway", async () => {
    const ui = await offlinePortalUi(portalApi);
    const res = await ui.app.inject({ method: "GET", url: "/apis/metadata/docs" });
    await ui.stop();
    expect(res.statusCode).toBe(200);
    const csp = String(res.headers["content-security-policy"]);
    expect(csp).toContain("connect-src 'self' https://api.example.com;");
    expect(csp).not.toContain("169.254.169.254");
  });
});
