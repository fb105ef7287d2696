/**
 * The end-to-end journey (issue 9, part 1): the whole product in `wicked dev` (hack/dev.ts, a child process)
 * against the cluster of KUBECONFIG — here the local control plane — with a fresh Postgres database, the Kong
 * test double in front of an echo upstream, an SMTP sink and a chat webhook sink.
 *
 * The platform team's samples are applied by `wicked dev`; a developer signs up in headless Chromium, verifies
 * by the mailed link, registers an application, subscribes, gets a key and calls the API through the
 * gateway; an admin makes the developer a partner, the developer asks for the approval-only plan, an approver
 * approves in the queue and the new key works; every mail and chat message arrives once; and the platform
 * team sees every resource Ready with `kubectl wait`.
 *
 * When a step fails, dev.ts's output, the namespace's events, `kubectl get wicked -o yaml`, what the sinks
 * received and screenshots of every open page are kept in test-results/e2e-journey/.
 */
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Kysely } from "kysely";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { createDatabase } from "../../../db/connect.ts";
import type { Database } from "../../../db/schema.ts";
import { freePort } from "../../../hack/controlplane/controlplane.ts";
import { type EchoServer, startEchoServer } from "../../kong/contract-support.ts";
import { type KongDouble, startKongDouble } from "../../kong/kong-double.ts";
import { launchBrowser, textOf, type WatchedPage, watchedPage } from "../../support/browser.ts";
import { type ChatSink, startChatSink } from "../../support/chat-sink.ts";
import { eventually } from "../../support/cluster.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { kubectlAsync, kubectlAsyncOk } from "../../support/kubectl.ts";
import { confirmEmail, logIn, showKey, signUp } from "../../support/portal-pages.ts";
import { type ReceivedMail, type SmtpSink, startSmtpSink } from "../../support/smtp-sink.ts";
import { type DevProcess, startDevProcess } from "./dev-process.ts";

const ARTIFACTS = join("test-results", "e2e-journey");
const PASSWORD = "correct horse battery staple";
const DEVELOPER = { email: "dana@example.com", name: "Dana Developer" };
const APPROVER = { email: "avery@example.com", name: "Avery Approver" };
/** From config/samples: the portal, its admin addresses and the sample ApiClient's owner. */
const SAMPLE = {
  portal: "developer-portal",
  portalName: "Shop Developer Portal",
  adminAddress: "api-team@shop.example.com",
};
const CHAT_PATH = "/slack/journey";

const kubeconfig = inject("kubeconfig");
const namespace = `journey-${Math.random().toString(36).slice(2, 8)}`;
let testDb: TestDatabase;
let db: Kysely<Database>;
let kong: KongDouble;
let echo: EchoServer;
let smtp: SmtpSink;
let chat: ChatSink;
let dev: DevProcess | undefined;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];
const pages: Array<{ name: string; page: Page }> = [];

const logs = () => dev?.output().slice(-8_000) ?? "";

async function newPage(name: string): Promise<WatchedPage> {
  if (!browser) throw new Error("The browser is not running");
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  const watched = await watchedPage(context);
  watched.page.setDefaultTimeout(45_000);
  pages.push({ name, page: watched.page });
  return watched;
}

/** Keeps what tells why the journey failed; a later failure adds its reason and refreshes the state. */
async function keepArtifacts(reason: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  appendFileSync(join(ARTIFACTS, "failure.txt"), `${reason}\n\n`);
  writeFileSync(join(ARTIFACTS, "wicked-dev.log"), dev?.output() ?? "(wicked dev did not start)");
  const events = await kubectlAsync(kubeconfig, [
    "get",
    "events",
    "-n",
    namespace,
    "--sort-by=.lastTimestamp",
  ]);
  writeFileSync(join(ARTIFACTS, "events.txt"), events.stdout + events.stderr);
  const wicked = await kubectlAsync(kubeconfig, ["get", "wicked", "-n", namespace, "-o", "yaml"]);
  writeFileSync(join(ARTIFACTS, "wicked.yaml"), wicked.stdout + wicked.stderr);
  const children = await kubectlAsync(kubeconfig, [
    "get",
    "deployments,services,configmaps",
    "-n",
    namespace,
    "-o",
    "wide",
  ]);
  writeFileSync(join(ARTIFACTS, "children.txt"), children.stdout + children.stderr);
  const mails = smtp?.messages.map((m) => ({
    to: m.envelope.to,
    subject: m.subject,
    key: effectKey(m),
    text: m.text,
  }));
  writeFileSync(join(ARTIFACTS, "mails.json"), JSON.stringify(mails ?? [], null, 2));
  writeFileSync(join(ARTIFACTS, "chat.json"), JSON.stringify(chat?.posts ?? [], null, 2));
  for (const [i, { name, page }] of pages.entries()) {
    await page
      .screenshot({ path: join(ARTIFACTS, `${i}-${name}.png`), fullPage: true })
      .catch(() => undefined);
  }
}

function effectKey(mail: ReceivedMail): string {
  return mail.headers.get("x-wicked-effect-key") ?? "";
}

function mailsTo(email: string, kind: string): ReceivedMail[] {
  return smtp.messages.filter(
    (m) => m.envelope.to.includes(email) && effectKey(m).startsWith(`mail:${kind}:`),
  );
}

function chatTexts(): string[] {
  return chat.posts
    .filter((p) => p.path === CHAT_PATH)
    .map((p) => String((p.body as { text?: unknown }).text));
}

async function gatewayStatus(path: string, headers: Record<string, string>): Promise<number> {
  return (await fetch(`${kong.proxyUrl}${path}`, { headers })).status;
}

/** The verification link of the newest verify-email mail to `email`. */
async function verificationLink(email: string): Promise<string> {
  const mail = await eventually(
    `the verification mail to ${email}`,
    () => mailsTo(email, "verify-email").at(-1),
    180_000,
    logs,
  );
  const link = /(https?:\/\/\S+\/verify-email\?token=\S+)/.exec(mail.text)?.[1];
  if (!link) throw new Error(`The verification mail to ${email} has no link:\n${mail.text}`);
  return link;
}

function devUrls(): DevProcess["urls"] {
  if (!dev) throw new Error("wicked dev is not running");
  return dev.urls;
}

beforeAll(async () => {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  try {
    testDb = await createTestDatabase(inject("databaseUrl"));
    db = createDatabase(testDb.url, { maxConnections: 2 });
    kong = await startKongDouble();
    echo = await startEchoServer();
    smtp = await startSmtpSink();
    chat = await startChatSink();
    const [metrics, health] = [await freePort(), await freePort()];
    dev = await startDevProcess({
      KUBECONFIG: kubeconfig,
      DATABASE_URL: testDb.url,
      WICKED_NAMESPACE: namespace,
      KONG_ADMIN_URL: kong.adminUrl,
      KONG_PROXY_URL: kong.proxyUrl,
      WICKED_DEV_SMTP_URL: smtp.url,
      WICKED_DEV_CHAT_URL: chat.url(CHAT_PATH),
      // Free ports: other test runs may share this machine.
      WICKED_DEV_PORTAL_PORT: "0",
      WICKED_DEV_API_PORT: "0",
      WICKED_DEV_AUTH_PORT: "0",
      WICKED_METRICS_PORT: String(metrics),
      WICKED_HEALTH_PORT: String(health),
      WICKED_LOG_LEVEL: "info",
      WICKED_NOTIFICATIONS_POLL_MS: "500",
      WICKED_GATEWAY_RESYNC_SECONDS: "10",
    });
    browser = await launchBrowser();
  } catch (err) {
    await keepArtifacts(`beforeAll: ${err instanceof Error ? err.stack : String(err)}`);
    throw err;
  }
}, 600_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail") {
    const errors = (ctx.task.result.errors ?? []).map((e) => e.stack ?? e.message).join("\n");
    await keepArtifacts(`${ctx.task.name}\n${errors}`);
  }
}, 120_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  // The wicked resources go while the operator still runs, so their finalizers are honoured; then the rest.
  if (dev) {
    await kubectlAsync(kubeconfig, [
      "delete",
      "subscriptions,apiclients,apis,plans,apiportals",
      "--all",
      "-n",
      namespace,
      "--wait=false",
    ]);
    await eventually(
      "the wicked resources are deleted",
      async () =>
        (await kubectlAsyncOk(kubeconfig, ["get", "wicked", "-n", namespace, "-o", "name"])).trim() === "",
      120_000,
    ).catch(() => undefined);
    await dev.stop();
  }
  await kubectlAsync(kubeconfig, ["delete", "namespace", namespace, "--wait=false"]);
  await chat?.stop();
  await smtp?.stop();
  await echo?.stop();
  await kong?.stop();
  await db?.destroy();
  await testDb?.drop();
}, 300_000);

describe("the whole product in wicked dev", () => {
  let developer: WatchedPage;
  let approver: WatchedPage;

  it("wicked dev applied the platform team's samples and serves them on local URLs", async () => {
    const urls = devUrls();
    expect(urls.portal).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(urls.api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(urls.auth).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/auth$/);
    expect(urls.gateway).toBe(kong.proxyUrl);
    // The ApiPortal's URLs are the local ones, so links, redirects and the OIDC issuer line up.
    const portal = JSON.parse(
      await kubectlAsyncOk(kubeconfig, ["get", "apiportal", SAMPLE.portal, "-n", namespace, "-o", "json"]),
    ) as { spec: { urls: Record<string, string> } };
    expect(portal.spec.urls).toEqual(urls);
    const discovery = (await (await fetch(`${urls.auth}/.well-known/openid-configuration`)).json()) as {
      issuer: string;
    };
    expect(discovery.issuer).toBe(urls.auth);

    // The sample Orders API's upstream is a Service of the shop; on this machine the platform team points it
    // at a local upstream instead.
    await kubectlAsyncOk(kubeconfig, [
      "patch",
      "api",
      "orders",
      "-n",
      namespace,
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { upstream: { serviceRef: null, url: `http://${echo.host}:${echo.port}` } } }),
    ]);
    const catalog = await eventually(
      "the portal API lists both sample APIs",
      async () => {
        const body = (await (await fetch(`${urls.api}/apis`)).json()) as { items?: Array<{ name: string }> };
        const names = (body.items ?? []).map((a) => a.name).sort();
        return names.length === 2 && names;
      },
      180_000,
      logs,
    );
    expect(catalog).toEqual(["orders", "weather"]);
  }, 300_000);

  it("a developer signs up in the browser, verifies by mail, registers an application, subscribes, and the key works at the gateway", async () => {
    const urls = devUrls();
    developer = await newPage("developer");
    const { page } = developer;
    await page.goto(urls.portal);
    expect(await textOf(page.getByRole("heading", { level: 1 }))).toBe("Build on the Shop platform");
    await signUp(page, urls.portal, DEVELOPER, PASSWORD);

    const link = await verificationLink(DEVELOPER.email);
    expect(link.startsWith(`${urls.portal}/verify-email?token=`)).toBe(true);
    await confirmEmail(page, link);

    await logIn(page, devUrls(), DEVELOPER.email, PASSWORD);
    expect(await textOf(page.locator(".account-name"))).toBe(DEVELOPER.name);

    await page.getByRole("link", { name: "Applications", exact: true }).click();
    await page.getByRole("link", { name: "Register an application" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Storefront");
    await page.getByLabel("Description").fill("Our web shop.");
    await page.getByRole("button", { name: "Register application" }).click();
    expect(await textOf(page.getByRole("heading", { level: 1 }))).toBe("Storefront");

    await page.goto(`${urls.portal}/apis`);
    await page.getByRole("link", { name: "Orders API" }).click();
    // The Partner plan is only for the "partners" group: a new developer does not see it.
    expect(await page.locator("label[for=plan-partner]").count()).toBe(0);
    await page.getByLabel("Application", { exact: true }).selectOption({ label: "Storefront" });
    await page.locator("label[for=plan-basic]").click();
    await page.getByRole("button", { name: "Subscribe" }).click();
    await page.waitForURL(/\/subscriptions\//);
    const { key, header } = await showKey(page, page.url(), 180_000, logs);
    expect(header).toBe("X-Api-Key");
    expect(key.length).toBeGreaterThanOrEqual(32);

    await eventually(
      "the key works at the gateway",
      async () => (await gatewayStatus("/orders", { [header]: key })) === 200,
      120_000,
      logs,
    );
    expect(await gatewayStatus("/orders", {})).toBe(401);
    expect(await gatewayStatus("/orders", { [header]: "not-the-key" })).toBe(401);
  }, 600_000);

  it("an admin makes the developer a partner, the developer asks for the Partner plan, an approver approves it in the queue, and the new key works", async () => {
    const urls = devUrls();
    // The first admin of a portal with local accounts is made in the database; this one also approves.
    const signUp = await fetch(`${urls.api}/accounts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: APPROVER.email, displayName: APPROVER.name, password: PASSWORD }),
    });
    expect(signUp.status).toBe(202);
    const token = new URL(await verificationLink(APPROVER.email)).searchParams.get("token");
    const verify = await fetch(`${urls.api}/accounts/verify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token }),
    });
    expect(verify.status).toBe(200);
    await db
      .updateTable("users")
      .set({ groups: ["approver"], is_admin: true })
      .where("email", "=", APPROVER.email)
      .execute();

    approver = await newPage("approver");
    await logIn(approver.page, devUrls(), APPROVER.email, PASSWORD);
    await approver.page.goto(`${urls.portal}/admin/users`);
    await approver.page.getByLabel(`Groups of ${DEVELOPER.email}`).fill("partners");
    await approver.page.getByRole("button", { name: `Save ${DEVELOPER.email}` }).click();
    expect(await textOf(approver.page.locator(".alert-success"))).toContain(DEVELOPER.email);

    const { page } = developer;
    await page.goto(`${urls.portal}/applications/new`);
    await page.getByLabel("Name", { exact: true }).fill("Storefront Wholesale");
    await page.getByLabel("Description").fill("Orders of our partner shops.");
    await page.getByRole("button", { name: "Register application" }).click();
    expect(await textOf(page.getByRole("heading", { level: 1 }))).toBe("Storefront Wholesale");
    await page.goto(`${urls.portal}/apis/orders`);
    await page.getByLabel("Application", { exact: true }).selectOption({ label: "Storefront Wholesale" });
    await page.locator("label[for=plan-partner]").click();
    await page.getByRole("button", { name: "Subscribe" }).click();
    await page.waitForURL(/\/subscriptions\//);
    const subscriptionUrl = page.url();
    await eventually(
      "the subscription waits for approval",
      async () => {
        await page.goto(subscriptionUrl);
        return (await page.getByText("Pending approval").count()) > 0;
      },
      120_000,
      logs,
    );
    expect(await page.getByRole("button", { name: "Show credentials" }).count()).toBe(0);

    // The approver is told by mail, with a link to the queue.
    const asked = await eventually(
      "the approval-required mail to the approver",
      () => mailsTo(APPROVER.email, "approval-required")[0],
      180_000,
      logs,
    );
    expect(asked.text).toContain(`${urls.portal}/approvals`);

    await approver.page.goto(`${urls.portal}/approvals`);
    const row = () =>
      approver.page.getByRole("row", { name: new RegExp(DEVELOPER.email.replace(".", "\\.")) });
    await eventually(
      "the developer's subscription is in the approvals queue",
      async () => {
        await approver.page.reload();
        return (await row().count()) > 0;
      },
      120_000,
      logs,
    );
    expect(await textOf(row())).toContain("Partner");
    await row()
      .getByRole("button", { name: /^Approve/ })
      .click();
    expect(await textOf(approver.page.locator(".alert-success"))).toContain("Approved");

    const { key, header } = await showKey(page, subscriptionUrl, 180_000, logs);
    await eventually(
      "the approved key works at the gateway",
      async () => (await gatewayStatus("/orders", { [header]: key })) === 200,
      120_000,
      logs,
    );
  }, 600_000);

  it("every mail and chat message arrived, once per event, saying what happened", async () => {
    const urls = devUrls();
    await eventually(
      "the approval mail to the developer",
      () => mailsTo(DEVELOPER.email, "subscription-approved").length > 0,
      180_000,
      logs,
    );
    const signUp = (who: { name: string; email: string }) =>
      `New sign-up at ${SAMPLE.portalName}: ${who.name} (${who.email})`;
    const subscribed = (plan: string) =>
      new RegExp(`^${DEVELOPER.name} subscribed \\S+ to orders \\(${plan} plan\\)$`);
    const needsApproval = (requester: string, application: string) =>
      `${requester} subscribed ${application} to Orders API (Partner plan), which needs an approval: <${urls.portal}/approvals|review it>`;
    const expected = [
      (t: string) => t === signUp(DEVELOPER),
      (t: string) => t === signUp(APPROVER),
      (t: string) => subscribed("basic").test(t),
      (t: string) => subscribed("partner").test(t),
      (t: string) => t === needsApproval(DEVELOPER.name, "Storefront Wholesale"),
    ];
    await eventually(
      "the chat messages",
      () => expected.every((matches) => chatTexts().some(matches)),
      180_000,
      () => `${JSON.stringify(chatTexts(), null, 2)}\n${logs()}`,
    );
    // Whatever else might still come would be a duplicate: give the senders time to make one.
    await new Promise((r) => setTimeout(r, 5_000));

    // Mail: every effect once (Message-ID and effect key), to the right people, with links into this portal.
    const keys = smtp.messages.map(effectKey);
    expect(keys.every((k) => k.startsWith("mail:"))).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(smtp.messages.map((m) => m.messageId)).size).toBe(smtp.messages.length);
    for (const mail of smtp.messages) expect(mail.envelope.from).toBe("noreply@shop.example.com");
    for (const who of [DEVELOPER.email, APPROVER.email]) {
      expect(mailsTo(who, "verify-email")).toHaveLength(1);
      expect(mailsTo(who, "welcome")).toHaveLength(1);
      expect(mailsTo(who, "welcome")[0]?.text).toContain(urls.portal);
    }
    const asked = mailsTo(APPROVER.email, "approval-required");
    expect(asked).toHaveLength(1);
    expect(asked[0]?.subject).toBe("Approval required: Storefront Wholesale wants Orders API (Partner)");
    expect(asked[0]?.text).toContain(`${urls.portal}/approvals`);
    const approved = mailsTo(DEVELOPER.email, "subscription-approved");
    expect(approved).toHaveLength(1);
    expect(approved[0]?.text).toContain("Orders API");

    // Chat: every effect once (the Idempotency-Key is the effect key), each event told once.
    const posts = chat.posts.filter((p) => p.path === CHAT_PATH);
    expect(new Set(posts.map((p) => p.idempotencyKey ?? "")).size).toBe(posts.length);
    const texts = chatTexts();
    for (const matches of expected) expect(texts.filter(matches)).toHaveLength(1);
    // The sample's subscription was approved in Git (spec.approval): nobody was asked about it.
    expect(mailsTo(SAMPLE.adminAddress, "approval-required")).toEqual([]);
    expect(texts).toHaveLength(expected.length);
  }, 400_000);

  it("the platform team sees every resource Ready with kubectl wait", async () => {
    const names = await kubectlAsyncOk(kubeconfig, ["get", "wicked", "-n", namespace, "-o", "name"]);
    const resources = names.trim().split("\n").sort();
    const of = (kind: string) => resources.filter((r) => r.startsWith(`${kind}.wicked.dev/`));
    // The samples (1 portal, 2 APIs, 2 plans, 1 application, 2 subscriptions) and the developer's 2 + 2.
    expect(of("apiportal")).toHaveLength(1);
    expect(of("api")).toHaveLength(2);
    expect(of("plan")).toHaveLength(2);
    expect(of("apiclient")).toHaveLength(3);
    expect(of("subscription")).toHaveLength(4);
    const wait = async (condition: string, targets: string[]) => {
      const result = await kubectlAsync(
        kubeconfig,
        ["wait", `--for=condition=${condition}`, "-n", namespace, "--timeout=240s", ...targets],
        300_000,
      );
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(result.stdout.trim().split("\n")).toHaveLength(targets.length);
    };
    // The portal too: on a cluster without nodes wicked dev reports its in-process components' health on
    // their Deployments, so ComponentsAvailable tells the truth.
    await wait("Ready", resources);
    const table = await kubectlAsyncOk(kubeconfig, ["get", "wicked", "-n", namespace]);
    console.log(`kubectl get wicked -n ${namespace}\n${table}`);
  }, 1_200_000);
});
