/**
 * The portal API and the auth server together, over HTTP, against the real apiserver and Postgres: the
 * developer journey from sign-up to credentials, and the refusals around it. Where the operator would act
 * (read model, credentials Secrets, Subscription status), the test stands in for it through
 * `stack.operator` (test/support/portal-stack.ts).
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { ApiSpec } from "../api/v1alpha1/index.ts";
import { clientAddressKey } from "../component/client-address.ts";
import { createLogger } from "../component/logger.ts";
import { createPortalUi } from "../portal-ui/main.ts";
import { cookieHeader, csrfTokenOf, fakeOidc, testUiConfig } from "../portal-ui/test-support.ts";
import { kubectl } from "../test/support/kubectl.ts";
import { Browser } from "../test/support/oidc-browser.ts";
import { type PortalStack, startPortalStack } from "../test/support/portal-stack.ts";
import { createPortalApi } from "./app.ts";
import { testConfig, unreachableKube } from "./test-support.ts";

const kubeconfig = inject("kubeconfig");
const PASSWORD = "correct horse battery staple";

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies read field by field in assertions
type Json = Record<string, any>;

let stack: PortalStack;

const ordersApi: ApiSpec = {
  displayName: "Orders",
  description: "Orders of the shop.",
  upstream: { url: "http://orders.shop.svc:8080" },
  routes: [{ paths: ["/orders"] }],
  auth: { type: "key-auth", keyHeader: "X-Api-Key" },
  plans: ["basic", "gold"],
  tags: ["shop"],
  openApi: {
    inline: JSON.stringify({
      openapi: "3.0.3",
      info: { title: "Orders", version: "1" },
      servers: [{ url: "http://orders.internal" }],
      paths: { "/": { get: { security: [{ internal: [] }], responses: { "200": { description: "ok" } } } } },
      components: { securitySchemes: { internal: { type: "http", scheme: "basic" } } },
    }),
  },
};

/** Signs up through the portal API and returns the verification token the outbox carries for the mailer. */
async function signUp(email: string, displayName = "Dev"): Promise<string> {
  const res = await stack.call("POST", "/accounts", { body: { email, displayName, password: PASSWORD } });
  expect(res.status).toBe(202);
  const events = await stack.outbox();
  const event = events
    .filter((e) => (e.type === "UserSignedUp" || e.type === "VerificationRequested") && e.email === email)
    .at(-1);
  if (!event || !("verifyToken" in event) || !event.verifyToken)
    throw new Error(`no verification token for ${email}`);
  return event.verifyToken;
}

/** A verified account, logged in through the auth server: its portal API access token. */
async function verifiedUser(email: string): Promise<string> {
  const token = await signUp(email);
  expect((await stack.call("POST", "/accounts/verify", { body: { token } })).status).toBe(200);
  return (await stack.login(email, PASSWORD)).access_token;
}

beforeAll(async () => {
  stack = await startPortalStack({
    kubeconfig,
    databaseUrl: inject("databaseUrl"),
    namespacePrefix: "portal-api",
  });
  await stack.operator.plan("basic", { displayName: "Basic", rateLimits: { minute: 60 } });
  await stack.operator.plan("gold", { displayName: "Gold", requiresApproval: true });
  await stack.operator.plan("partners-only", { displayName: "Partners", requiredGroup: "partners" });
  await stack.operator.api("orders", ordersApi);
  await stack.operator.api("payments", {
    ...ordersApi,
    displayName: "Payments",
    routes: [{ paths: ["/payments"] }],
    requiredGroup: "finance",
    plans: ["gold", "partners-only"],
    openApi: undefined,
  });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

describe("the developer journey over HTTP", () => {
  it("signs up, verifies through the outbox token, logs in, creates an application, subscribes and reads the credentials", async () => {
    const email = "Dana.Dev@example.com";
    const verifyToken = await signUp(email, "Dana");
    const signedUp = (await stack.outbox("UserSignedUp")).find((e) => e.email === email);
    expect(signedUp).toMatchObject({ type: "UserSignedUp", displayName: "Dana" });
    const stored = await stack.db.selectFrom("email_verifications").select("token_hash").execute();
    expect(stored.map((r) => r.token_hash)).not.toContain(verifyToken);

    const verified = await stack.call("POST", "/accounts/verify", { body: { token: verifyToken } });
    expect(verified.status).toBe(200);
    expect(verified.json).toEqual({ email, verified: true });

    const tokens = await stack.login(email, PASSWORD);
    expect(tokens.refresh_token).toBeTruthy();
    const me = await stack.call("GET", "/me", { token: tokens.access_token });
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({
      email,
      displayName: "Dana",
      permissions: { admin: false, approver: false },
    });

    const created = await stack.call("POST", "/applications", {
      token: tokens.access_token,
      body: { displayName: "Shop Frontend", description: "Our web shop" },
    });
    expect(created.status).toBe(201);
    const app = created.json as Json;
    expect(app).toMatchObject({
      displayName: "Shop Frontend",
      owner: email,
      role: "Owner",
      clientType: "confidential",
    });
    expect(app.name).toMatch(/^shop-frontend-[0-9a-f]{8}$/);
    const client = JSON.parse(
      kubectl(kubeconfig, ["get", "apiclient", app.name, "-n", stack.namespace, "-o", "json"]).stdout,
    );
    expect(client.spec.owner).toBe(email);
    expect(client.metadata.labels["wicked.dev/owner"]).toMatch(/^[0-9a-f]{40}$/);
    await stack.operator.mirrorApplication(app.name);

    const subscribed = await stack.call("POST", "/subscriptions", {
      token: tokens.access_token,
      body: { application: app.name, api: "orders", plan: "basic" },
    });
    expect(subscribed.status).toBe(201);
    const sub = subscribed.json as Json;
    expect(sub).toMatchObject({
      application: app.name,
      api: "orders",
      plan: "basic",
      phase: "Pending",
      credentialsReady: false,
    });

    const inCluster = kubectl(kubeconfig, [
      "get",
      "subscription",
      sub.name,
      "-n",
      stack.namespace,
      "-o",
      "json",
    ]);
    expect(inCluster.code).toBe(0);
    const resource = JSON.parse(inCluster.stdout);
    expect(resource.spec).toMatchObject({
      clientRef: { name: app.name },
      apiRef: { name: "orders" },
      planRef: { name: "basic" },
    });
    expect(resource.metadata.labels["wicked.dev/client"]).toBe(app.name);

    const early = await stack.call("GET", `/subscriptions/${sub.name}/credentials`, {
      token: tokens.access_token,
    });
    expect(early.status).toBe(409);
    expect((early.json as Json).type).toBe("https://wicked.dev/problems/credentials-not-ready");

    await stack.operator.issueCredentials(sub.name, {
      apiKey: "k-123456",
      apiUrl: "http://gateway.example.com/orders",
    });
    const credentials = await stack.call("GET", `/subscriptions/${sub.name}/credentials`, {
      token: tokens.access_token,
    });
    expect(credentials.status).toBe(200);
    expect(credentials.headers.get("cache-control")).toBe("no-store");
    expect(credentials.json).toMatchObject({
      subscription: sub.name,
      type: "key-auth",
      apiKey: "k-123456",
      keyHeader: "X-Api-Key",
      apiUrl: "http://gateway.example.com/orders",
    });

    const listed = await stack.call("GET", `/subscriptions?application=${app.name}`, {
      token: tokens.access_token,
    });
    expect(listed.json).toMatchObject({
      total: 1,
      items: [{ name: sub.name, phase: "Active", credentialsReady: true }],
    });
    const events = (await stack.outbox()).map((e) => e.type);
    expect(events).toEqual(
      expect.arrayContaining(["UserSignedUp", "UserVerified", "ApplicationAdded", "SubscriptionAdded"]),
    );
  });
});

describe("account refusals", () => {
  it("refuses a wrong password with 401 and the same answer as for an unknown address", async () => {
    await verifiedUser("wrong.password@example.com");
    const browser = new Browser();
    const { page } = await stack.authorize(browser);
    const wrong = await stack.submitLogin(
      browser,
      page,
      "wrong.password@example.com",
      "not the password at all",
    );
    expect(wrong.status).toBe(401);
    expect(wrong.body).toContain("Wrong email or password.");
    const unknown = await stack.submitLogin(
      browser,
      wrong,
      "nobody.here@example.com",
      "not the password at all",
    );
    expect(unknown.status).toBe(401);
    expect(unknown.body.replace(/value="[^"]*"/g, "")).toBe(wrong.body.replace(/value="[^"]*"/g, ""));
  });

  it("refuses to log in an unverified address with 403 and mails a new verification link", async () => {
    const email = "unverified@example.com";
    await signUp(email);
    const before = (await stack.outbox("VerificationRequested")).filter((e) => e.email === email).length;
    const browser = new Browser();
    const { page } = await stack.authorize(browser);
    const refused = await stack.submitLogin(browser, page, email, PASSWORD);
    expect(refused.status).toBe(403);
    expect(refused.body).toContain("Verify your email address first");
    expect((await stack.outbox("VerificationRequested")).filter((e) => e.email === email)).toHaveLength(
      before + 1,
    );
  });

  it("accepts a verification token once: reusing it is 410 token-used", async () => {
    const token = await signUp("reuse@example.com");
    expect((await stack.call("POST", "/accounts/verify", { body: { token } })).status).toBe(200);
    const again = await stack.call("POST", "/accounts/verify", { body: { token } });
    expect(again.status).toBe(410);
    expect(again.headers.get("content-type")).toContain("application/problem+json");
    expect(again.json).toMatchObject({ type: "https://wicked.dev/problems/token-used", status: 410 });
  });

  it("refuses an expired verification token with 410 token-expired, and an unknown one with 400", async () => {
    const token = await signUp("late@example.com");
    stack.clock.advance(25 * 60 * 60 * 1000);
    const expired = await stack.call("POST", "/accounts/verify", { body: { token } });
    expect(expired.status).toBe(410);
    expect(expired.json).toMatchObject({ type: "https://wicked.dev/problems/token-expired" });
    const unknown = await stack.call("POST", "/accounts/verify", { body: { token: "x".repeat(43) } });
    expect(unknown.status).toBe(400);
    expect(unknown.json).toMatchObject({ type: "https://wicked.dev/problems/token-invalid" });
  });

  it("answers sign-up and password reset the same whether or not the address has an account", async () => {
    await verifiedUser("taken@example.com");
    const again = await stack.call("POST", "/accounts", {
      body: { email: "taken@example.com", displayName: "Someone Else", password: PASSWORD },
    });
    const fresh = await stack.call("POST", "/accounts", {
      body: { email: "fresh.address@example.com", displayName: "Fresh", password: PASSWORD },
    });
    expect(again.status).toBe(202);
    expect(again.json).toEqual(fresh.json);
    const known = await stack.call("POST", "/accounts/password-reset", {
      body: { email: "taken@example.com" },
    });
    const unknown = await stack.call("POST", "/accounts/password-reset", {
      body: { email: "ghost@example.com" },
    });
    expect(known.status).toBe(202);
    expect(unknown.json).toEqual(known.json);
    const resets = (await stack.outbox("PasswordResetRequested")).map((e) => e.email);
    expect(resets).toContain("taken@example.com");
    expect(resets).not.toContain("ghost@example.com");
  });

  it("refuses a weak password with the policy's problems", async () => {
    const res = await stack.call("POST", "/accounts", {
      body: { email: "weak@example.com", displayName: "Weak", password: "aaaaaaaa" },
    });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ type: "https://wicked.dev/problems/weak-password" });
    expect(((res.json as Json).errors as Json[]).map((e) => e.message)).toEqual(
      expect.arrayContaining([
        expect.stringContaining("at least 12 characters"),
        expect.stringContaining("5 different"),
      ]),
    );
  });

  it("resets a forgotten password with the mailed token, once, and ends the old sessions", async () => {
    const email = "forgetful@example.com";
    await verifiedUser(email);
    const old = await stack.login(email, PASSWORD);
    await stack.call("POST", "/accounts/password-reset", { body: { email } });
    const event = (await stack.outbox("PasswordResetRequested")).filter((e) => e.email === email).at(-1);
    const resetToken = event && "resetToken" in event ? event.resetToken : null;
    expect(resetToken).toBeTruthy();
    const newPassword = "a completely new passphrase";
    const done = await stack.call("POST", "/accounts/password-reset/confirm", {
      body: { token: resetToken, password: newPassword },
    });
    expect(done.status).toBe(204);
    const reused = await stack.call("POST", "/accounts/password-reset/confirm", {
      body: { token: resetToken, password: "yet another passphrase!" },
    });
    expect(reused.status).toBe(410);
    const refreshed = await stack.token({
      grant_type: "refresh_token",
      refresh_token: old.refresh_token ?? "",
    });
    expect(refreshed.status).toBe(400);
    expect(refreshed.json.error).toBe("invalid_grant");
    await expect(stack.login(email, PASSWORD)).rejects.toThrow(/Login of/);
    expect((await stack.login(email, newPassword)).access_token).toBeTruthy();
  });
});

/** An application of a user, mirrored into the read model as the operator would. */
async function application(token: string, displayName: string, extra: Json = {}): Promise<string> {
  const res = await stack.call("POST", "/applications", { token, body: { displayName, ...extra } });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  const name = (res.json as Json).name as string;
  await stack.operator.mirrorApplication(name);
  return name;
}

/** Makes a user an admin directly in the database, as the platform team bootstraps the first admin. */
async function makeAdmin(email: string): Promise<void> {
  await stack.db.updateTable("users").set({ is_admin: true }).where("email", "=", email).execute();
}

async function userId(email: string): Promise<string> {
  return (
    await stack.db.selectFrom("users").select("id").where("email", "=", email).executeTakeFirstOrThrow()
  ).id;
}

describe("who may do what", () => {
  let owner: string;
  let other: string;
  let admin: string;
  let app: string;
  let sub: string;

  beforeAll(async () => {
    owner = await verifiedUser("owner@example.com");
    other = await verifiedUser("other@example.com");
    admin = await verifiedUser("admin@example.com");
    await makeAdmin("admin@example.com");
    app = await application(owner, "Billing Service");
    const res = await stack.call("POST", "/subscriptions", {
      token: owner,
      body: { application: app, api: "orders", plan: "basic" },
    });
    sub = (res.json as Json).name;
    await stack.operator.issueCredentials(sub, { apiKey: "owner-secret-key" });
  });

  it("does not let a user read another user's credentials (404, as if the subscription did not exist)", async () => {
    const res = await stack.call("GET", `/subscriptions/${sub}/credentials`, { token: other });
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ type: "https://wicked.dev/problems/not-found" });
    expect(res.text).not.toContain("owner-secret-key");
    expect((await stack.call("GET", `/applications/${app}`, { token: other })).status).toBe(404);
    const listed = await stack.call("GET", "/subscriptions", { token: other });
    expect(listed.json).toMatchObject({ total: 0, items: [] });
  });

  it("security #3: never serves a Secret that is not granted to the subscription, even when its status names it", async () => {
    // The attack: the other user's subscription names the owner's generated Secret (spec.credentials.secretRef),
    // and an operator that did not check the grant put that name into its status.
    const theirs = await application(other, "Thief");
    const res = await stack.call("POST", "/subscriptions", {
      token: other,
      body: { application: theirs, api: "orders", plan: "basic" },
    });
    const stolen = (res.json as Json).name as string;
    await stack.operator.credentialsIn(stolen, `${sub}-credentials`);
    const read = await stack.call("GET", `/subscriptions/${stolen}/credentials`, { token: other });
    expect(read.status).toBe(409);
    expect(read.json).toMatchObject({ type: "https://wicked.dev/problems/credentials-not-granted" });
    expect(read.text).not.toContain("owner-secret-key");
    // The owner still reads their own.
    const own = await stack.call("GET", `/subscriptions/${sub}/credentials`, { token: owner });
    expect((own.json as Json).apiKey).toBe("owner-secret-key");
  });

  it("lets collaborators read credentials but refuses readers (403 insufficient-role)", async () => {
    const patched = await stack.call("PATCH", `/applications/${app}`, {
      token: owner,
      body: { collaborators: [{ user: "other@example.com", role: "Reader" }] },
    });
    expect(patched.status).toBe(200);
    await stack.operator.mirrorApplication(app);
    const reader = await stack.call("GET", `/subscriptions/${sub}/credentials`, { token: other });
    expect(reader.status).toBe(403);
    expect(reader.json).toMatchObject({ type: "https://wicked.dev/problems/insufficient-role" });
    expect((await stack.call("GET", `/applications/${app}`, { token: other })).json).toMatchObject({
      role: "Reader",
    });

    await stack.call("PATCH", `/applications/${app}`, {
      token: owner,
      body: { collaborators: [{ user: "other@example.com", role: "Collaborator" }] },
    });
    const collaborator = await stack.call("GET", `/subscriptions/${sub}/credentials`, { token: other });
    expect(collaborator.status).toBe(200);
    expect(collaborator.json).toMatchObject({ apiKey: "owner-secret-key" });
    const notOwner = await stack.call("DELETE", `/applications/${app}`, { token: other });
    expect(notOwner.status).toBe(403);
  });

  it("names the key header the operator wrote into the credentials Secret, else the Api's, else X-Api-Key", async () => {
    const secretName = `${sub}-credentials`;
    const writeSecret = (data: Record<string, string>) =>
      stack.kube.core.replaceNamespacedSecret({
        name: secretName,
        namespace: stack.namespace,
        body: {
          metadata: { name: secretName, labels: { "wicked.dev/subscription": sub } },
          stringData: data,
        },
      });
    const keyHeader = async () => {
      const res = await stack.call("GET", `/subscriptions/${sub}/credentials`, { token: owner });
      expect(res.status).toBe(200);
      return (res.json as Json).keyHeader;
    };
    try {
      await writeSecret({ apiKey: "owner-secret-key", keyHeader: "X-Shop-Key" });
      expect(await keyHeader()).toBe("X-Shop-Key");
      // A Secret from before the operator wrote the header, for an Api that names none: the gateway's default.
      await writeSecret({ apiKey: "owner-secret-key" });
      await stack.operator.api("orders", { ...ordersApi, auth: { type: "key-auth" } });
      expect(await keyHeader()).toBe("X-Api-Key");
      const doc = (await stack.call("GET", "/apis/orders/openapi")).json as Json;
      expect(doc.components.securitySchemes.apiKey).toMatchObject({ in: "header", name: "X-Api-Key" });
    } finally {
      await stack.operator.api("orders", ordersApi);
      await writeSecret({ apiKey: "owner-secret-key" });
    }
  });

  it("rotates credentials by setting spec.credentials.rotation.requestedAt", async () => {
    const res = await stack.call("POST", `/subscriptions/${sub}/rotate`, { token: owner });
    expect(res.status).toBe(202);
    const resource = JSON.parse(
      kubectl(kubeconfig, ["get", "subscription", sub, "-n", stack.namespace, "-o", "json"]).stdout,
    );
    const requestedAt = resource.spec.credentials.rotation.requestedAt;
    expect(Date.parse(requestedAt)).toBeGreaterThan(0);
    const rotated = await stack.outbox("CredentialsRotated");
    expect(rotated.map((e) => (e.type === "CredentialsRotated" ? e.subscription : ""))).toContain(sub);
  });

  it("shows each caller only the Apis of their groups, with filters and paging", async () => {
    const anonymous = await stack.call("GET", "/apis");
    expect(anonymous.status).toBe(200);
    expect(((anonymous.json as Json).items as Json[]).map((a) => a.name)).toEqual(["orders"]);
    expect((await stack.call("GET", "/apis/payments", { token: owner })).status).toBe(404);
    const all = await stack.call("GET", "/apis?pageSize=1", { token: admin });
    expect(all.json).toMatchObject({ total: 2, page: 1, pageSize: 1, items: [{ name: "orders" }] });
    const second = await stack.call("GET", "/apis?pageSize=1&page=2", { token: admin });
    expect(second.json).toMatchObject({ items: [{ name: "payments" }] });
    const tagged = await stack.call("GET", "/apis?tag=nothing", { token: admin });
    expect(tagged.json).toMatchObject({ total: 0 });
    const detail = await stack.call("GET", "/apis/orders");
    expect(detail.json).toMatchObject({
      baseUrl: "http://gateway.example.com/orders",
      planDetails: [
        { name: "basic", requiresApproval: false },
        { name: "gold", requiresApproval: true },
      ],
    });
    const bad = await stack.call("GET", "/apis?pageSize=1000");
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ type: "https://wicked.dev/problems/validation-failed" });
  });

  it("serves the Api's OpenAPI document rewritten for the gateway and its key header", async () => {
    const res = await stack.call("GET", "/apis/orders/openapi");
    expect(res.status).toBe(200);
    const doc = res.json as Json;
    expect(doc.servers).toEqual([{ url: "http://gateway.example.com/orders", description: "The gateway" }]);
    expect(doc.components.securitySchemes).toEqual({
      apiKey: expect.objectContaining({ type: "apiKey", in: "header", name: "X-Api-Key" }),
    });
    expect(doc.paths["/"].get.security).toBeUndefined();
  });

  describe("approvals", () => {
    let financeSub: string;
    let approver: string;
    let wrongApprover: string;

    beforeAll(async () => {
      const dev = await verifiedUser("finance.dev@example.com");
      approver = await verifiedUser("finance.approver@example.com");
      wrongApprover = await verifiedUser("hr.approver@example.com");
      // An admin puts people into groups through the admin API.
      for (const [email, groups] of [
        ["finance.dev@example.com", ["finance"]],
        ["finance.approver@example.com", ["finance", "approver"]],
        ["hr.approver@example.com", ["hr", "approver"]],
      ] as const) {
        const res = await stack.call("PATCH", `/admin/users/${await userId(email)}`, {
          token: admin,
          body: { groups },
        });
        expect(res.status).toBe(200);
      }
      const financeApp = await application(dev, "Ledger");
      const res = await stack.call("POST", "/subscriptions", {
        token: dev,
        body: { application: financeApp, api: "payments", plan: "gold" },
      });
      expect(res.status, JSON.stringify(res.json)).toBe(201);
      financeSub = (res.json as Json).name;
      await stack.operator.mirrorSubscription(financeSub, { phase: "PendingApproval", approved: null });
    });

    it("security #5: refuses an approver's approval of a subscription of their own application (403 self-approval)", async () => {
      const own = await application(approver, "Approver's own ledger");
      const res = await stack.call("POST", "/subscriptions", {
        token: approver,
        body: { application: own, api: "payments", plan: "gold" },
      });
      expect(res.status, JSON.stringify(res.json)).toBe(201);
      const name = (res.json as Json).name;
      await stack.operator.mirrorSubscription(name, { phase: "PendingApproval", approved: null });
      const approve = await stack.call("POST", `/approvals/${name}/approve`, { token: approver });
      expect(approve.status).toBe(403);
      expect(approve.json).toMatchObject({ type: "https://wicked.dev/problems/self-approval" });
      const queue = (await stack.call("GET", "/approvals", { token: approver })).json as { items: Json[] };
      expect(queue.items.map((i) => i.name)).not.toContain(name);
      const resource = JSON.parse(
        kubectl(kubeconfig, ["get", "subscription", name, "-n", stack.namespace, "-o", "json"]).stdout,
      );
      expect(resource.spec.approval).toBeUndefined();
    });

    it("refuses approval by a user who is not an approver (403 not-an-approver)", async () => {
      const res = await stack.call("POST", `/approvals/${financeSub}/approve`, { token: other });
      expect(res.status).toBe(403);
      expect(res.json).toMatchObject({ type: "https://wicked.dev/problems/not-an-approver" });
      expect((await stack.call("GET", "/approvals", { token: other })).status).toBe(403);
    });

    it("refuses approval by an approver outside the Api's group, who does not see it in their list either", async () => {
      const res = await stack.call("POST", `/approvals/${financeSub}/approve`, { token: wrongApprover });
      expect(res.status).toBe(403);
      expect((res.json as Json).detail).toContain('"finance"');
      const list = await stack.call("GET", "/approvals", { token: wrongApprover });
      expect(list.json).toMatchObject({ total: 0 });
      const resource = JSON.parse(
        kubectl(kubeconfig, ["get", "subscription", financeSub, "-n", stack.namespace, "-o", "json"]).stdout,
      );
      expect(resource.spec.approval).toBeUndefined();
    });

    it("lets an approver of the Api's group approve: spec.approval names them, the audit log records it", async () => {
      const list = await stack.call("GET", "/approvals", { token: approver });
      expect(list.json).toMatchObject({
        total: 1,
        items: [
          {
            name: financeSub,
            api: "payments",
            plan: "gold",
            owner: "finance.dev@example.com",
            applicationDisplayName: "Ledger",
          },
        ],
      });
      const res = await stack.call("POST", `/approvals/${financeSub}/approve`, { token: approver });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ name: financeSub, approval: "Approved" });
      const resource = JSON.parse(
        kubectl(kubeconfig, ["get", "subscription", financeSub, "-n", stack.namespace, "-o", "json"]).stdout,
      );
      expect(resource.spec.approval).toEqual({
        decision: "Approved",
        decidedBy: "finance.approver@example.com",
        plan: "gold",
      });
      const entries = await stack.db
        .selectFrom("audit_log")
        .selectAll()
        .where("action", "=", "subscription.approve")
        .execute();
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        actor: await userId("finance.approver@example.com"),
        target_name: financeSub,
        target_kind: "Subscription",
      });
    });

    it("keeps a rejection final (409 already-rejected)", async () => {
      const dev = await stack.login("finance.dev@example.com", PASSWORD);
      const reportApp = await application(dev.access_token, "Reports");
      const created = await stack.call("POST", "/subscriptions", {
        token: dev.access_token,
        body: { application: reportApp, api: "payments", plan: "gold" },
      });
      const name = (created.json as Json).name;
      const rejected = await stack.call("POST", `/approvals/${name}/reject`, {
        token: approver,
        body: { reason: "Use the sandbox first." },
      });
      expect(rejected.json).toMatchObject({ approval: "Rejected", approvalReason: "Use the sandbox first." });
      const again = await stack.call("POST", `/approvals/${name}/approve`, { token: approver });
      expect(again.status).toBe(409);
    });
  });

  it("gives admins the audit log with filters and as CSV, and refuses everyone else", async () => {
    expect((await stack.call("GET", "/admin/audit-log", { token: owner })).status).toBe(403);
    const filtered = await stack.call("GET", "/admin/audit-log?action=subscription.&pageSize=100", {
      token: admin,
    });
    expect(filtered.status).toBe(200);
    const actions = ((filtered.json as Json).items as Json[]).map((e) => e.action);
    expect(actions.length).toBeGreaterThan(2);
    expect(actions.every((a) => a.startsWith("subscription."))).toBe(true);
    const byTarget = await stack.call(
      "GET",
      `/admin/audit-log?targetName=${sub}&action=subscription.rotate`,
      { token: admin },
    );
    expect(byTarget.json).toMatchObject({
      total: 1,
      items: [{ action: "subscription.rotate", targetName: sub }],
    });
    const future = await stack.call(
      "GET",
      `/admin/audit-log?from=${encodeURIComponent("2999-01-01T00:00:00Z")}`,
      { token: admin },
    );
    expect(future.json).toMatchObject({ total: 0 });

    const csv = await stack.call("GET", "/admin/audit-log.csv?action=subscription.create", { token: admin });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const lines = csv.text.trim().split("\r\n");
    expect(lines[0]).toBe("id,at,actor,action,target_kind,target_name,namespace,details");
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.slice(1).every((l) => l.includes(",subscription.create,Subscription,"))).toBe(true);

    const users = await stack.call("GET", "/admin/users?q=finance", { token: admin });
    expect(((users.json as Json).items as Json[]).map((u) => u.email).sort()).toEqual([
      "finance.approver@example.com",
      "finance.dev@example.com",
    ]);
  });
});

describe("tokens and accounts", () => {
  it("refuses a malformed or foreign token with 401 and a WWW-Authenticate challenge", async () => {
    const res = await stack.call("GET", "/me", { token: "not.a.jwt" });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_token"/);
    const none = await stack.call("GET", "/me");
    expect(none.status).toBe(401);
  });

  it("deletes an account with its applications and subscriptions", async () => {
    const token = await verifiedUser("leaving@example.com");
    const app = await application(token, "Short Lived");
    const sub = await stack.call("POST", "/subscriptions", {
      token,
      body: { application: app, api: "orders", plan: "basic" },
    });
    const subName = (sub.json as Json).name;
    expect((await stack.call("DELETE", "/me", { token })).status).toBe(204);
    expect(kubectl(kubeconfig, ["get", "apiclient", app, "-n", stack.namespace]).code).not.toBe(0);
    const gone = kubectl(kubeconfig, ["get", "subscription", subName, "-n", stack.namespace, "-o", "json"]);
    expect(gone.code === 0 ? JSON.parse(gone.stdout).metadata.deletionTimestamp : "gone").toBeTruthy();
    expect((await stack.call("GET", "/me", { token })).status).toBe(401);
    await expect(stack.login("leaving@example.com", PASSWORD)).rejects.toThrow(/Login of/);
    const deleted = await stack.outbox("ApplicationDeleted");
    expect(deleted.map((e) => (e.type === "ApplicationDeleted" ? e.application : ""))).toContain(app);
  });

  it("never writes passwords, tokens or credentials to the logs", async () => {
    const logs = stack.logs();
    expect(logs).toContain("Created ApiClient");
    expect(logs).not.toContain(PASSWORD);
    expect(logs).not.toContain("owner-secret-key");
    const tokens = await stack.db.selectFrom("outbox").select("payload").execute();
    for (const row of tokens) {
      const payload = row.payload as Json;
      for (const value of [payload.verifyToken, payload.resetToken])
        if (value) expect(logs).not.toContain(value);
    }
    expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}\.eyJ/);
  });
});

/** A document server on a port of its own: what it serves per path, and how often it was asked. */
async function documentServer(
  routes: Record<string, (res: ServerResponse) => void>,
): Promise<{ url: string; hits: Record<string, number>; close(): Promise<void> }> {
  const hits: Record<string, number> = {};
  const server = createServer((req, res) => {
    const path = req.url ?? "/";
    hits[path] = (hits[path] ?? 0) + 1;
    const route = routes[path];
    if (route) route(res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("OpenAPI documents at a URL", () => {
  const document = "openapi: 3.0.3\ninfo: {title: Remote, version: '1'}\npaths: {}\n";

  it("security #6: many anonymous requests for an Api's document fetch it from its URL once", async () => {
    const docs = await documentServer({
      // Slow enough that the first requests arrive while it is being fetched.
      "/openapi.yaml": (res) => setTimeout(() => res.end(document), 200),
    });
    try {
      await stack.operator.api("remote", {
        ...ordersApi,
        displayName: "Remote",
        routes: [{ paths: ["/remote"] }],
        openApi: { url: `${docs.url}/openapi.yaml` },
      });
      const first = await Promise.all(
        Array.from({ length: 10 }, () => stack.call("GET", "/apis/remote/openapi")),
      );
      const later: Array<{ status: number; json: unknown }> = [];
      for (let i = 0; i < 10; i++) later.push(await stack.call("GET", "/apis/remote/openapi"));
      expect([...first, ...later].map((r) => r.status)).toEqual(Array(20).fill(200));
      expect((later[0]?.json as Json | undefined)?.servers).toEqual([
        { url: "http://gateway.example.com/remote", description: "The gateway" },
      ]);
      expect(docs.hits["/openapi.yaml"]).toBe(1);
    } finally {
      await docs.close();
    }
  });

  it("security #6: a document that is not YAML is refused without its content, and no redirect leaves the host", async () => {
    const elsewhere = await documentServer({ "/openapi.yaml": (res) => res.end(document) });
    const docs = await documentServer({
      "/config.txt": (res) => res.end("db-password: s3cr3t-value\n  - nested: [oops"),
      "/moved": (res) => res.writeHead(302, { location: `${elsewhere.url}/openapi.yaml` }).end(),
    });
    try {
      await stack.operator.api("not-yaml", {
        ...ordersApi,
        displayName: "Not YAML",
        routes: [{ paths: ["/not-yaml"] }],
        openApi: { url: `${docs.url}/config.txt` },
      });
      await stack.operator.api("moved", {
        ...ordersApi,
        displayName: "Moved",
        routes: [{ paths: ["/moved"] }],
        openApi: { url: `${docs.url}/moved` },
      });
      const notYaml = await stack.call("GET", "/apis/not-yaml/openapi");
      expect(notYaml.status).toBe(422);
      expect(notYaml.text).not.toContain("s3cr3t");
      const moved = await stack.call("GET", "/apis/moved/openapi");
      expect(moved.status).toBe(502);
      expect(elsewhere.hits["/openapi.yaml"]).toBeUndefined();
    } finally {
      await docs.close();
      await elsewhere.close();
    }
  });
});

describe("security #8: client addresses through the portal UI", () => {
  it("security #8: gives two browsers behind the portal UI separate buckets: one exhausted client does not block another's sign-up", async () => {
    const key = clientAddressKey("a-session-key-of-some-length");
    const api = await createPortalApi({
      config: testConfig({ portal: { namespace: stack.namespace, name: "demo" } }),
      db: stack.db,
      kube: unreachableKube,
      logger: createLogger({ name: "portal-api", level: "silent" }),
      scrypt: { ln: 4, r: 8, p: 1 },
      throttle: {
        perAddress: { max: 2, timeWindowMs: 60_000 },
        perAccount: { max: 100, timeWindowMs: 60_000 },
        global: { max: 100, timeWindowMs: 60_000 },
      },
      clientAddressKey: key,
    });
    // The portal UI reaches this portal API in process: every call comes from the same peer, as from its pod.
    const bridge: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      const url = new URL(request.url);
      const res = await api.app.inject({
        method: request.method as "POST",
        url: `${url.pathname}${url.search}`,
        headers: { ...Object.fromEntries(request.headers.entries()), "x-forwarded-for": "10.0.0.5" },
        payload: (await request.text()) || undefined,
      });
      return new Response(res.statusCode === 204 ? null : res.body, {
        status: res.statusCode,
        headers: { "content-type": String(res.headers["content-type"] ?? "application/json") },
      });
    };
    const ui = await createPortalUi({
      config: testUiConfig(),
      secrets: {
        cookieKeys: ["a-cookie-key-for-tests-0123456789"],
        clientSecret: "secret",
        clientAddressKey: key,
      },
      logger: pino({ level: "silent" }),
      oidc: fakeOidc,
      fetch: bridge,
      portalApiUrl: "http://portal-api.internal",
      health: [],
      trustProxy: 1,
    });
    /** Signs up through the portal UI's form from a browser at `address` (as the ingress reports it). */
    const signUpFrom = async (address: string, email: string) => {
      const headers = { "x-forwarded-for": address };
      const form = await ui.app.inject({ method: "GET", url: "/signup", headers });
      const payload = new URLSearchParams({
        _csrf: csrfTokenOf(form.body),
        email,
        displayName: "Browser",
        password: PASSWORD,
      }).toString();
      const res = await ui.app.inject({
        method: "POST",
        url: "/signup",
        payload,
        headers: {
          ...headers,
          "content-type": "application/x-www-form-urlencoded",
          cookie: cookieHeader(form.headers["set-cookie"]),
        },
      });
      return res;
    };
    try {
      const first = [
        await signUpFrom("203.0.113.1", "ui.browser.a1@example.com"),
        await signUpFrom("203.0.113.1", "ui.browser.a2@example.com"),
        await signUpFrom("203.0.113.1", "ui.browser.a3@example.com"),
      ];
      expect(first.map((r) => r.statusCode)).toEqual([200, 200, 429]);
      const other = await signUpFrom("203.0.113.2", "ui.browser.b1@example.com");
      expect(other.statusCode).toBe(200);
      expect(other.body).toContain("Check your inbox");
      expect(first[2]?.body).toMatch(/Too many attempts\. Wait \d+ (second|minute)s?, then try again\./);
    } finally {
      await ui.stop();
      await api.stop();
    }
  });
});
