/**
 * The auth server over HTTP against the real apiserver and Postgres, with the Kong test double as the
 * gateway and a second oidc-provider as the upstream identity provider: OAuth2 subscriptions as clients,
 * client_credentials and authorization_code + PKCE, refresh token rotation, federated login with group
 * mapping, and the refusals the OAuth 2.0 Security BCP asks for. The operator's part (read model,
 * credentials Secrets, Kong consumers) is played by the test through `stack.operator` and the Kong Admin API.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { ApiSpec } from "../api/v1alpha1/index.ts";
import { createLogger } from "../component/logger.ts";
import { cryptoKeys } from "../operator/controllers/apiportal.controller.ts";
import { type KongDouble, startKongDouble } from "../test/kong/kong-double.ts";
import { Browser, formWithAction, linkWith, type Page } from "../test/support/oidc-browser.ts";
import { type PortalStack, startPortalStack } from "../test/support/portal-stack.ts";
import { type AuthServerDeps, createAuthServer } from "./app.ts";
import { readAuthKeys } from "./keys.ts";

const kubeconfig = inject("kubeconfig");
const PASSWORD = "correct horse battery staple";
const PUBLIC_REDIRECT = "http://localhost:8765/callback";

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies read field by field in assertions
type Json = Record<string, any>;

let stack: PortalStack;
let kong: KongDouble;
let upstreamService: Server;
/** The confidential client of the "inventory" subscription, and the public client of another. */
const worker = { id: "", secret: "", subscription: "" };
const mobile = { id: "", subscription: "" };

const inventoryApi: ApiSpec = {
  displayName: "Inventory",
  upstream: { url: "http://inventory.shop.svc" },
  routes: [{ paths: ["/inventory"] }],
  auth: {
    type: "oauth2",
    scopes: [{ name: "inventory:read", description: "Read stock levels" }, { name: "inventory:write" }],
    flows: ["authorization_code", "client_credentials"],
  },
  plans: ["standard"],
};

async function kongAdmin(method: string, path: string, body?: unknown): Promise<Json> {
  const res = await fetch(`${kong.adminUrl}${path}`, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = (await res.json()) as Json;
  if (res.status >= 300) throw new Error(`Kong ${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

function authUrl(params: Record<string, string>): string {
  return `${stack.urls.auth}/auth?${new URLSearchParams(params)}`;
}

/** Logs a developer in on a login page and follows the flow until it leaves the auth server. */
async function loginThrough(browser: Browser, page: Page, email: string, stopAt: string): Promise<Page> {
  const form = formWithAction(page, "/login");
  return browser.follow(form.action, { form: { ...form.fields, email, password: PASSWORD } }, (u) =>
    u.startsWith(stopAt),
  );
}

async function developer(email: string): Promise<string> {
  await stack.call("POST", "/accounts", { body: { email, displayName: "Dev", password: PASSWORD } });
  const event = (await stack.outbox("UserSignedUp")).filter((e) => e.email === email).at(-1);
  const token = event && "verifyToken" in event ? event.verifyToken : null;
  expect((await stack.call("POST", "/accounts/verify", { body: { token } })).status).toBe(200);
  return (await stack.login(email, PASSWORD)).access_token;
}

beforeAll(async () => {
  stack = await startPortalStack({
    kubeconfig,
    databaseUrl: inject("databaseUrl"),
    namespacePrefix: "auth-server",
    upstream: {
      mappings: [
        { idpGroup: "corp-finance", group: "finance" },
        { idpGroup: "corp-approvers", group: "approver" },
      ],
    },
  });
  await stack.operator.plan("standard", { displayName: "Standard" });
  await stack.operator.api("inventory", inventoryApi);
  await stack.operator.api("shipping", {
    ...inventoryApi,
    displayName: "Shipping",
    routes: [{ paths: ["/shipping"] }],
    auth: { type: "oauth2", scopes: [{ name: "shipping:read" }], flows: ["client_credentials"] },
  });

  // A developer registers two applications through the portal API and subscribes both to "inventory".
  const token = await developer("oauth.dev@example.com");
  const register = async (body: Json) => {
    const created = await stack.call("POST", "/applications", { token, body });
    const app = (created.json as Json).name as string;
    await stack.operator.mirrorApplication(app);
    const sub = await stack.call("POST", "/subscriptions", {
      token,
      body: { application: app, api: "inventory", plan: "standard" },
    });
    expect(sub.status, JSON.stringify(sub.json)).toBe(201);
    return (sub.json as Json).name as string;
  };
  worker.subscription = await register({ displayName: "Inventory Worker" });
  mobile.subscription = await register({
    displayName: "Stock App",
    clientType: "public",
    redirectUris: [PUBLIC_REDIRECT],
  });
  // The operator issues the OAuth2 client credentials into each Subscription's Secret.
  worker.id = `wkr-${randomBytes(6).toString("hex")}`;
  worker.secret = randomBytes(24).toString("base64url");
  mobile.id = `mob-${randomBytes(6).toString("hex")}`;
  await stack.operator.issueCredentials(worker.subscription, {
    clientId: worker.id,
    clientSecret: worker.secret,
  });
  await stack.operator.issueCredentials(mobile.subscription, { clientId: mobile.id });

  // The gateway: the two Apis as Kong services with jwt (keyed by client_id) and acl, as the Kong sync
  // will program them, and the worker's consumer in the inventory group with the portal's public key.
  upstreamService = createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ path: req.url, consumer: req.headers["x-consumer-username"] ?? null }));
  });
  await new Promise<void>((resolve) => upstreamService.listen(0, "127.0.0.1", resolve));
  const upstreamUrl = `http://127.0.0.1:${(upstreamService.address() as AddressInfo).port}`;
  kong = await startKongDouble();
  for (const api of ["inventory", "shipping"]) {
    await kongAdmin("POST", "/services", { name: api, url: upstreamUrl });
    await kongAdmin("POST", `/services/${api}/routes`, { name: api, paths: [`/${api}`] });
    await kongAdmin("POST", `/services/${api}/plugins`, {
      name: "jwt",
      config: { key_claim_name: "client_id", claims_to_verify: ["exp"] },
    });
    await kongAdmin("POST", `/services/${api}/plugins`, { name: "acl", config: { allow: [`api-${api}`] } });
  }
  await kongAdmin("POST", "/consumers", { username: worker.subscription });
  await kongAdmin("POST", `/consumers/${worker.subscription}/acls`, { group: "api-inventory" });
  await kongAdmin("POST", `/consumers/${worker.subscription}/jwt`, {
    key: worker.id,
    algorithm: "RS256",
    rsa_public_key: stack.signingKey.publicPem,
  });
}, 180_000);

afterAll(async () => {
  await kong?.stop();
  await new Promise((resolve) => upstreamService?.close(resolve));
  await stack?.stop();
});

describe("client_credentials", () => {
  it("gives an OAuth2 subscription an RFC 9068 token that the gateway accepts for its Api and refuses for another", async () => {
    const res = await stack.token({ grant_type: "client_credentials", scope: "inventory:read" }, worker);
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    const accessToken = String(res.json.access_token);
    expect(res.json).toMatchObject({ token_type: "Bearer", scope: "inventory:read", expires_in: 900 });

    expect(decodeProtectedHeader(accessToken)).toMatchObject({
      typ: "at+jwt",
      alg: "RS256",
      kid: stack.signingKey.kid,
    });
    const { payload } = await jwtVerify(accessToken, createRemoteJWKSet(new URL(`${stack.urls.auth}/jwks`)), {
      issuer: stack.urls.auth,
      audience: "urn:wicked:api:inventory",
      typ: "at+jwt",
    });
    expect(payload).toMatchObject({ client_id: worker.id, sub: worker.id, scope: "inventory:read" });

    const accepted = await fetch(`${kong.proxyUrl}/inventory/items`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toEqual({ path: "/items", consumer: worker.subscription });
    const refused = await fetch(`${kong.proxyUrl}/shipping/parcels`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ message: "You cannot consume this service" });
    const anonymous = await fetch(`${kong.proxyUrl}/inventory/items`);
    expect(anonymous.status).toBe(401);
  });

  it("refuses a token for an Api the client has no subscription to (invalid_target)", async () => {
    const res = await stack.token(
      { grant_type: "client_credentials", resource: "urn:wicked:api:shipping" },
      worker,
    );
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: "invalid_target" });
    const portal = await stack.token({ grant_type: "client_credentials", resource: stack.urls.api }, worker);
    expect(portal.json).toMatchObject({ error: "invalid_target" });
  });

  it("refuses a wrong client secret, and client_credentials for a public client", async () => {
    const wrong = await stack.token({ grant_type: "client_credentials" }, { id: worker.id, secret: "nope" });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error).toBe("invalid_client");
    const publicClient = await stack.token({ grant_type: "client_credentials" }, { id: mobile.id });
    expect(publicClient.status).toBe(400);
    expect(publicClient.json).toMatchObject({
      error: "invalid_request",
      error_description: "requested grant type is not allowed for this client",
    });
  });

  it("does not accept a client_credentials token at the portal API, which serves users", async () => {
    const res = await stack.token({ grant_type: "client_credentials" }, worker);
    const me = await stack.call("GET", "/me", { token: String(res.json.access_token) });
    expect(me.status).toBe(401);
  });
});

describe("authorization_code with PKCE", () => {
  /** Runs the flow of the public client up to the code; returns the redirect's parameters. */
  async function authorizePublicClient(
    browser: Browser,
    email: string,
    verifierChallenge: string,
  ): Promise<URL> {
    const page = await browser.follow(
      authUrl({
        client_id: mobile.id,
        response_type: "code",
        redirect_uri: PUBLIC_REDIRECT,
        scope: "openid offline_access inventory:read",
        prompt: "consent",
        code_challenge: verifierChallenge,
        code_challenge_method: "S256",
        state: "s-1",
      }),
    );
    expect(page.status, page.body.slice(0, 500)).toBe(200);
    const consent = await loginThrough(browser, page, email, PUBLIC_REDIRECT);
    expect(consent.status).toBe(200);
    expect(consent.body).toContain("Stock App");
    expect(consent.body).toContain("inventory:read");
    const confirm = formWithAction(consent, "/confirm");
    const done = await browser.follow(confirm.action, { form: confirm.fields }, (u) =>
      u.startsWith(PUBLIC_REDIRECT),
    );
    expect(done.location?.startsWith(PUBLIC_REDIRECT), done.body.slice(0, 500)).toBe(true);
    return new URL(done.location ?? "");
  }

  it("runs end to end for a public client: login, consent, code, tokens; a refresh rotates and the old refresh token is refused", async () => {
    const browser = new Browser();
    const { verifier, challenge } = pkce();
    const redirect = await authorizePublicClient(browser, "oauth.dev@example.com", challenge);
    expect(redirect.searchParams.get("state")).toBe("s-1");
    const code = redirect.searchParams.get("code") ?? "";

    const tokens = await stack.token(
      { grant_type: "authorization_code", code, redirect_uri: PUBLIC_REDIRECT, code_verifier: verifier },
      { id: mobile.id },
    );
    expect(tokens.status, JSON.stringify(tokens.json)).toBe(200);
    expect(tokens.json).toMatchObject({ scope: "inventory:read", token_type: "Bearer" });
    const { payload } = await jwtVerify(
      String(tokens.json.access_token),
      createRemoteJWKSet(new URL(`${stack.urls.auth}/jwks`)),
      {
        issuer: stack.urls.auth,
        audience: "urn:wicked:api:inventory",
      },
    );
    expect(payload.client_id).toBe(mobile.id);
    const user = await stack.db
      .selectFrom("users")
      .select("id")
      .where("email", "=", "oauth.dev@example.com")
      .executeTakeFirstOrThrow();
    expect(payload.sub).toBe(user.id);

    const first = String(tokens.json.refresh_token);
    const refreshed = await stack.token(
      { grant_type: "refresh_token", refresh_token: first },
      { id: mobile.id },
    );
    expect(refreshed.status, JSON.stringify(refreshed.json)).toBe(200);
    const second = String(refreshed.json.refresh_token);
    expect(second).not.toBe(first);
    expect(refreshed.json.access_token).not.toBe(tokens.json.access_token);

    const reused = await stack.token(
      { grant_type: "refresh_token", refresh_token: first },
      { id: mobile.id },
    );
    expect(reused.status).toBe(400);
    expect(reused.json.error).toBe("invalid_grant");
    // Reuse of a rotated refresh token means it leaked: the whole grant is revoked.
    const after = await stack.token(
      { grant_type: "refresh_token", refresh_token: second },
      { id: mobile.id },
    );
    expect(after.json.error).toBe("invalid_grant");
  });

  it("refuses a reused authorization code (invalid_grant)", async () => {
    const browser = new Browser();
    const { verifier, challenge } = pkce();
    const redirect = await authorizePublicClient(browser, "oauth.dev@example.com", challenge);
    const params = {
      grant_type: "authorization_code",
      code: redirect.searchParams.get("code") ?? "",
      redirect_uri: PUBLIC_REDIRECT,
      code_verifier: verifier,
    };
    expect((await stack.token(params, { id: mobile.id })).status).toBe(200);
    const again = await stack.token(params, { id: mobile.id });
    expect(again.status).toBe(400);
    expect(again.json).toMatchObject({ error: "invalid_grant" });
  });

  it("refuses a wrong PKCE verifier (invalid_grant)", async () => {
    const browser = new Browser();
    const { challenge } = pkce();
    const redirect = await authorizePublicClient(browser, "oauth.dev@example.com", challenge);
    const res = await stack.token(
      {
        grant_type: "authorization_code",
        code: redirect.searchParams.get("code") ?? "",
        redirect_uri: PUBLIC_REDIRECT,
        code_verifier: pkce().verifier,
      },
      { id: mobile.id },
    );
    expect(res.json).toMatchObject({ error: "invalid_grant", error_description: "grant request is invalid" });
  });

  it("refuses a redirect URI that is not registered exactly, with an error page instead of a redirect", async () => {
    const browser = new Browser();
    const { challenge } = pkce();
    for (const redirectUri of [
      `${PUBLIC_REDIRECT}/evil`,
      `${PUBLIC_REDIRECT}?next=x`,
      "http://localhost:8765/Callback",
    ]) {
      const page = await browser.request(
        authUrl({
          client_id: mobile.id,
          response_type: "code",
          redirect_uri: redirectUri,
          scope: "openid",
          code_challenge: challenge,
          code_challenge_method: "S256",
        }),
      );
      expect(page.status, redirectUri).toBe(400);
      expect(page.location).toBeUndefined();
      expect(page.body).toContain("invalid_redirect_uri");
      expect(page.body).toContain(
        "redirect_uri did not match any of the client&#39;s registered redirect_uris",
      );
    }
  });

  it("refuses a public client without PKCE (invalid_request, sent back to the client)", async () => {
    const browser = new Browser();
    const page = await browser.request(
      authUrl({
        client_id: mobile.id,
        response_type: "code",
        redirect_uri: PUBLIC_REDIRECT,
        scope: "openid",
        state: "s-2",
      }),
    );
    expect(page.status).toBe(303);
    const location = new URL(page.location ?? "");
    expect(location.origin + location.pathname).toBe(PUBLIC_REDIRECT);
    expect(location.searchParams.get("error")).toBe("invalid_request");
    expect(location.searchParams.get("error_description")).toMatch(/PKCE/);
    expect(location.searchParams.get("state")).toBe("s-2");
  });

  it("offers neither the implicit nor the password grant", async () => {
    const discovery = (await (
      await fetch(`${stack.urls.auth}/.well-known/openid-configuration`)
    ).json()) as Json;
    expect(discovery.issuer).toBe(stack.urls.auth);
    expect(discovery.response_types_supported).toEqual(["code"]);
    expect(discovery.grant_types_supported).toEqual(
      expect.arrayContaining(["authorization_code", "client_credentials", "refresh_token"]),
    );
    expect(discovery.grant_types_supported).not.toContain("implicit");
    expect(discovery.grant_types_supported).not.toContain("password");
    expect(discovery.code_challenge_methods_supported).toEqual(["S256"]);
    const implicit = await new Browser().request(
      authUrl({
        client_id: mobile.id,
        response_type: "token",
        redirect_uri: PUBLIC_REDIRECT,
        scope: "openid",
        nonce: "n",
      }),
    );
    const fragment = new URLSearchParams(new URL(implicit.location ?? "http://x/").hash.slice(1));
    expect(fragment.get("error")).toBe("unsupported_response_type");
    const password = await stack.token(
      { grant_type: "password", username: "oauth.dev@example.com", password: PASSWORD },
      worker,
    );
    expect(password.json.error).toBe("unsupported_grant_type");
  });
});

describe("federated login through the upstream IdP", () => {
  /** The portal UI's login through the "Corp SSO" button; returns the portal API token. */
  async function federatedLogin(): Promise<{ status: number; token?: string; page: Page }> {
    const browser = new Browser();
    const { page, verifier, state } = await stack.authorize(browser);
    const end = await browser.follow(linkWith(page, "/federated/corp"), {}, (u) =>
      u.startsWith(stack.portalUi.redirectUri),
    );
    if (!end.location?.startsWith(stack.portalUi.redirectUri)) return { status: end.status, page: end };
    const redirect = new URL(end.location);
    expect(redirect.searchParams.get("state")).toBe(state);
    const tokens = await stack.token({
      grant_type: "authorization_code",
      code: redirect.searchParams.get("code") ?? "",
      redirect_uri: stack.portalUi.redirectUri,
      code_verifier: verifier,
    });
    expect(tokens.status, JSON.stringify(tokens.json)).toBe(200);
    return { status: 200, token: String(tokens.json.access_token), page: end };
  }

  it("creates an account for a new identity and maps its IdP groups to portal groups", async () => {
    stack.upstream?.loginAs({
      sub: "corp-1",
      email: "fed.user@example.com",
      email_verified: true,
      name: "Fed User",
      groups: ["corp-finance", "corp-other"],
    });
    const login = await federatedLogin();
    expect(login.status, login.page.body.slice(0, 800)).toBe(200);
    const me = await stack.call("GET", "/me", { token: login.token });
    expect(me.json).toMatchObject({
      email: "fed.user@example.com",
      displayName: "Fed User",
      groups: ["finance"],
    });
    const identity = await stack.db
      .selectFrom("identities")
      .selectAll()
      .where("subject", "=", "corp-1")
      .executeTakeFirstOrThrow();
    expect(identity).toMatchObject({
      provider: "corp",
      email: "fed.user@example.com",
      user_id: (me.json as Json).id,
    });
    const signedUp = (await stack.outbox("UserSignedUp")).find((e) => e.email === "fed.user@example.com");
    expect(signedUp).toMatchObject({ verifyToken: null });

    // The IdP drops the group: the next login removes the mapped portal group.
    stack.upstream?.loginAs({
      sub: "corp-1",
      email: "fed.user@example.com",
      email_verified: true,
      groups: [],
    });
    const again = await federatedLogin();
    expect((await stack.call("GET", "/me", { token: again.token })).json).toMatchObject({
      id: (me.json as Json).id,
      groups: [],
    });
  });

  it("links an identity to the existing account with the same verified email, keeping portal-assigned groups", async () => {
    await developer("Linked.Person@example.com");
    await stack.db
      .updateTable("users")
      .set({ groups: ["beta"] })
      .where("email", "=", "Linked.Person@example.com")
      .execute();
    stack.upstream?.loginAs({
      sub: "corp-2",
      email: "linked.person@EXAMPLE.com",
      email_verified: true,
      groups: ["corp-approvers"],
    });
    const login = await federatedLogin();
    expect(login.status).toBe(200);
    const me = (await stack.call("GET", "/me", { token: login.token })).json as Json;
    expect(me).toMatchObject({
      email: "Linked.Person@example.com",
      groups: ["approver", "beta"],
      permissions: { approver: true },
    });
    const users = await stack.db
      .selectFrom("users")
      .select("id")
      .where("email", "ilike", "linked.person@example.com")
      .execute();
    expect(users).toHaveLength(1);
  });

  it("security #1: does not let a sign-up that never proved the address keep its password once the IdP's user logs in (pre-hijacking)", async () => {
    const ATTACKER_PASSWORD = "mallory's own passphrase";
    // Mallory signs up with the victim's address and never follows the link (it went to the victim).
    const signUp = await stack.call("POST", "/accounts", {
      body: { email: "victim@example.com", displayName: "Mallory", password: ATTACKER_PASSWORD },
    });
    expect(signUp.status).toBe(202);
    // The victim logs in through the company's IdP, which vouches for the address and makes them an approver.
    stack.upstream?.loginAs({
      sub: "corp-victim",
      email: "victim@example.com",
      email_verified: true,
      name: "Victor Victim",
      groups: ["corp-approvers"],
    });
    const login = await federatedLogin();
    expect(login.status).toBe(200);
    // Mallory's password opens nothing: not the victim's account, not its approver rights.
    await expect(stack.login("victim@example.com", ATTACKER_PASSWORD)).rejects.toThrow(/Login of .* failed/);
    const user = await stack.db
      .selectFrom("users")
      .selectAll()
      .where("email", "=", "victim@example.com")
      .executeTakeFirstOrThrow();
    expect(user.password_hash).toBeNull();
  });

  it("security #2: gives an identity whose IdP did not verify its email no role on the applications naming that address", async () => {
    // The platform team declared an application owned by this address (GitOps).
    await stack.kube.custom.createNamespacedCustomObject({
      group: "wicked.dev",
      version: "v1alpha1",
      namespace: stack.namespace,
      plural: "apiclients",
      body: {
        apiVersion: "wicked.dev/v1alpha1",
        kind: "ApiClient",
        metadata: { name: "payroll" },
        spec: { displayName: "Payroll", owner: "cfo@example.com", clientType: "confidential" },
      },
    });
    await stack.operator.mirrorApplication("payroll");
    stack.upstream?.loginAs({ sub: "corp-unverified", email: "cfo@example.com", email_verified: false });
    const login = await federatedLogin();
    expect(login.status).toBe(200);
    expect((await stack.call("GET", "/applications/payroll", { token: login.token })).status).toBe(404);
    const mine = (await stack.call("GET", "/applications", { token: login.token })).json as { items: Json[] };
    expect(mine.items.map((a) => a.name)).not.toContain("payroll");
  });

  it("refuses to link an existing account when the IdP has not verified the email", async () => {
    await developer("careful@example.com");
    stack.upstream?.loginAs({ sub: "corp-3", email: "careful@example.com", email_verified: false });
    const login = await federatedLogin();
    expect(login.status).toBe(400);
    expect(login.page.body).toContain("cannot be linked");
    const identity = await stack.db
      .selectFrom("identities")
      .selectAll()
      .where("subject", "=", "corp-3")
      .executeTakeFirst();
    expect(identity).toBeUndefined();
  });
});

describe("the interaction pages", () => {
  it("signs up through the auth server's page (CSRF-protected) and leaves the account waiting for verification", async () => {
    const browser = new Browser();
    const { page } = await stack.authorize(browser);
    const signup = await browser.follow(linkWith(page, "/signup"));
    const form = formWithAction(signup, "/signup");
    const fields = {
      ...form.fields,
      email: "page.signup@example.com",
      displayName: "Page",
      password: PASSWORD,
    };
    const forged = await browser.request(form.action, { form: { ...fields, _csrf: "forged" } });
    expect(forged.status).toBe(403);
    expect(forged.body).toContain("This form has expired");
    const done = await browser.follow(form.action, { form: fields });
    expect(done.status).toBe(200);
    expect(done.body).toContain("Check your email");
    const event = (await stack.outbox("UserSignedUp")).find((e) => e.email === "page.signup@example.com");
    expect(event && "verifyToken" in event && event.verifyToken).toBeTruthy();
  });

  it("sets the interaction cookies HttpOnly and SameSite=Lax", async () => {
    const browser = new Browser();
    const res = await browser.request(
      `${stack.urls.auth}/auth?${new URLSearchParams({ client_id: stack.portalUi.clientId, response_type: "code", redirect_uri: stack.portalUi.redirectUri, scope: "openid", code_challenge: pkce().challenge, code_challenge_method: "S256" })}`,
    );
    const cookies = res.headers.getSetCookie().filter((c) => c.startsWith("_interaction"));
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) expect(cookie.toLowerCase()).toMatch(/httponly/);
    for (const cookie of cookies) expect(cookie.toLowerCase()).toMatch(/samesite=lax/);
  });

  it("lets a browser post the login form back over http when the issuer is http (no upgrade-insecure-requests)", async () => {
    expect(stack.urls.auth.startsWith("http:")).toBe(true);
    const browser = new Browser();
    const start = await browser.request(
      `${stack.urls.auth}/auth?${new URLSearchParams({ client_id: stack.portalUi.clientId, response_type: "code", redirect_uri: stack.portalUi.redirectUri, scope: "openid", code_challenge: pkce().challenge, code_challenge_method: "S256" })}`,
    );
    const loginPage = await browser.request(
      new URL(start.headers.get("location") ?? "", stack.urls.auth).toString(),
    );
    expect(loginPage.status).toBe(200);
    const csp = loginPage.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src");
    expect(csp).not.toContain("upgrade-insecure-requests");
  });

  it("throttles login attempts per account (429)", async () => {
    const browser = new Browser();
    const { page } = await stack.authorize(browser);
    const form = formWithAction(page, "/login");
    const statuses: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      const res = await browser.request(form.action, {
        form: { ...form.fields, email: "throttled@example.com", password: `guess ${i}` },
      });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 8).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(8)).toEqual([429, 429]);
    const otherEmail = await browser.request(form.action, {
      form: { ...form.fields, email: "someone.else@example.com", password: "guess" },
    });
    expect(otherEmail.status).toBe(401);
  });

  it("marks cookies Secure when the issuer is https (behind the ingress), and publishes every signing key", async () => {
    const keys = readAuthKeys(stack.secretsDir);
    const next = cryptoKeys.signingKey();
    const server = await createAuthServer({
      config: {
        portal: { namespace: stack.namespace, name: "demo" },
        displayName: "Secure",
        urls: {
          portal: "https://portal.example.com",
          api: "https://portal.example.com/api",
          auth: "https://portal.example.com/auth",
          gateway: "https://gw.example.com",
        },
        groups: { admin: "admin", approver: "approver", mappings: [] },
        login: { local: { enabled: true, allowSignup: true, passwordMinLength: 12 }, providers: [] },
      },
      db: stack.db,
      secrets: { readSecret: async () => undefined },
      keys: { ...keys, jwks: { keys: [next, ...keys.jwks.keys] } },
      logger: createLogger({ name: "auth-server", level: "silent" }),
      purgeIntervalMs: 0,
    });
    try {
      const res = await server.app.inject({
        url: `/auth/auth?${new URLSearchParams({ client_id: "portal-ui", response_type: "code", redirect_uri: "https://portal.example.com/login/callback", scope: "openid", code_challenge: pkce().challenge, code_challenge_method: "S256" })}`,
        headers: { "x-forwarded-proto": "https", host: "portal.example.com" },
      });
      expect(res.statusCode).toBe(303);
      const cookies = ([] as string[]).concat(res.headers["set-cookie"] ?? []);
      expect(cookies.length).toBeGreaterThan(0);
      for (const cookie of cookies) expect(cookie.toLowerCase()).toMatch(/; secure/);
      expect(res.headers["strict-transport-security"]).toBeDefined();
      const jwks = (await server.app.inject("/auth/jwks")).json() as { keys: Json[] };
      expect(jwks.keys.map((k) => k.kid)).toEqual([next.kid, stack.signingKey.kid]);
      expect(jwks.keys.every((k) => k.d === undefined && k.p === undefined)).toBe(true);
    } finally {
      await server.stop();
    }
  });
});

describe("security #8: throttling login and sign-up", () => {
  /** Settings that never bite, so each test turns on only the limit it is about. */
  const high = { max: 1_000, timeWindowMs: 60_000 };

  /**
   * An auth server of its own (fresh counters) on the stack's database, behind one trusted proxy hop, so
   * each request's X-Forwarded-For names its client address.
   */
  async function throttledAuthServer(throttle: AuthServerDeps["throttle"]) {
    const port = await freePort();
    const urls = {
      portal: "http://127.0.0.1:9/portal",
      api: "http://127.0.0.1:9/api",
      auth: `http://127.0.0.1:${port}/auth`,
      gateway: "http://gateway.example.com",
    };
    const server = await createAuthServer({
      config: {
        portal: { namespace: stack.namespace, name: "demo" },
        displayName: "Throttled",
        urls,
        groups: { admin: "admin", approver: "approver", mappings: [] },
        login: { local: { enabled: true, allowSignup: true, passwordMinLength: 12 }, providers: [] },
      },
      db: stack.db,
      secrets: { readSecret: async () => undefined },
      keys: readAuthKeys(stack.secretsDir),
      logger: createLogger({ name: "auth-server", level: "silent" }),
      scrypt: { ln: 10, r: 8, p: 1 },
      throttle,
      trustProxy: 1,
      purgeIntervalMs: 0,
    });
    await server.app.listen({ port, host: "127.0.0.1" });
    /** A browser's login page at this auth server. */
    const loginPage = async (browser: Browser) => {
      const query = new URLSearchParams({
        client_id: "portal-ui",
        response_type: "code",
        redirect_uri: `${urls.portal}/login/callback`,
        scope: "openid",
        code_challenge: pkce().challenge,
        code_challenge_method: "S256",
      });
      const page = await browser.follow(`${urls.auth}/auth?${query}`);
      expect(page.status, page.body).toBe(200);
      return page;
    };
    /** Posts one login form per attempt, `[client address, email]`; returns the answers. */
    const logins = async (attempts: Array<[string, string]>) => {
      const browser = new Browser();
      const form = formWithAction(await loginPage(browser), "/login");
      const answers: Page[] = [];
      for (const [address, email] of attempts) {
        answers.push(
          await browser.request(form.action, {
            form: { ...form.fields, email, password: "Winter2025!Winter2025!" },
            headers: { "x-forwarded-for": address },
          }),
        );
      }
      return answers;
    };
    /** Posts one sign-up form per attempt, `[client address, email]`; returns the answers. */
    const signUps = async (attempts: Array<[string, string]>) => {
      const browser = new Browser();
      const page = await loginPage(browser);
      const signup = await browser.request(linkWith(page, "/signup"));
      const form = formWithAction(signup, "/signup");
      const answers: Page[] = [];
      for (const [address, email] of attempts) {
        answers.push(
          await browser.request(form.action, {
            form: { ...form.fields, email, displayName: "Throttled", password: PASSWORD },
            headers: { "x-forwarded-for": address },
          }),
        );
      }
      return answers;
    };
    return { logins, signUps, stop: () => server.stop() };
  }

  /** Checks a refusal: 429, a Retry-After in seconds, and a page that says how long to wait. */
  function expectTooMany(page: Page | undefined) {
    expect(page?.status).toBe(429);
    expect(Number(page?.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(page?.body).toMatch(/Too many attempts\. Wait \d+ (second|minute)s?, then try again\./);
  }

  it("security #8: stops password spraying: one client address gets 429 after its limit although every email is new", async () => {
    const server = await throttledAuthServer({
      login: { perAddress: { max: 3, timeWindowMs: 60_000 }, perAccount: high, global: high },
    });
    try {
      const sprayer = "203.0.113.66";
      const answers = await server.logins([
        [sprayer, "spray1@example.com"],
        [sprayer, "spray2@example.com"],
        [sprayer, "spray3@example.com"],
        [sprayer, "spray4@example.com"],
        [sprayer, "spray5@example.com"],
        ["198.51.100.1", "spray4@example.com"],
      ]);
      expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 429, 429, 401]);
      expectTooMany(answers[3]);
    } finally {
      await server.stop();
    }
  });

  it("security #8: stops distributed guessing: one account gets 429 after its limit whatever the client address", async () => {
    const server = await throttledAuthServer({
      login: { perAddress: high, perAccount: { max: 3, timeWindowMs: 600_000 }, global: high },
    });
    try {
      const answers = await server.logins([
        ["203.0.113.1", "target@example.com"],
        ["203.0.113.2", "Target@Example.com"],
        ["203.0.113.3", " target@example.com"],
        ["203.0.113.4", "target@example.com"],
        ["203.0.113.5", "bystander@example.com"],
      ]);
      expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 429, 401]);
      expectTooMany(answers[3]);
      expect(Number(answers[3]?.headers.get("retry-after"))).toBeGreaterThan(60);
    } finally {
      await server.stop();
    }
  });

  it("security #8: puts a global ceiling on login attempts and on sign-ups", async () => {
    const server = await throttledAuthServer({
      login: { perAddress: high, perAccount: high, global: { max: 4, timeWindowMs: 60_000 } },
      signup: { perAddress: high, global: { max: 2, timeWindowMs: 60_000 } },
    });
    try {
      const logins = await server.logins(
        [1, 2, 3, 4, 5].map((i) => [`203.0.113.${i}`, `global${i}@example.com`] as [string, string]),
      );
      expect(logins.map((a) => a.status)).toEqual([401, 401, 401, 401, 429]);
      expectTooMany(logins[4]);
      const signUps = await server.signUps(
        [1, 2, 3].map((i) => [`198.51.100.${i}`, `global.signup${i}@example.com`] as [string, string]),
      );
      expect(signUps.map((a) => a.status)).toEqual([200, 200, 429]);
      expectTooMany(signUps[2]);
    } finally {
      await server.stop();
    }
  });

  it("security #8: limits sign-ups per client address", async () => {
    const server = await throttledAuthServer({
      signup: { perAddress: { max: 2, timeWindowMs: 60_000 }, global: high },
    });
    try {
      const signUps = await server.signUps([
        ["203.0.113.9", "per.address1@example.com"],
        ["203.0.113.9", "per.address2@example.com"],
        ["203.0.113.9", "per.address3@example.com"],
        ["198.51.100.9", "per.address4@example.com"],
      ]);
      expect(signUps.map((a) => a.status)).toEqual([200, 200, 429, 200]);
      expectTooMany(signUps[2]);
    } finally {
      await server.stop();
    }
  });
});

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
