/**
 * The mailer and the chatbot end to end: the notification controllers run as their own operator process
 * (test/support/notifications-process.ts, leader-elected like `wicked operator`) against the real control
 * plane and Postgres; mail goes over real SMTP into an smtp-server sink, chat messages into an HTTP sink.
 * Counting is by effect key (the X-Wicked-Effect-Key header and the Idempotency-Key of webhook calls) and by
 * Message-ID, which the sender derives from the effect key.
 *
 * The sinks run in this process, so the test never calls kubectl (which blocks the event loop) while a
 * sender may be talking to them: cluster reads and writes go through the runtime's asynchronous client.
 */
import type { Kysely } from "kysely";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { KubeClient } from "../../controller-runtime/client.ts";
import { EVENT_GVK, type KubeEvent } from "../../controller-runtime/events.ts";
import { clientFor, createNamespace, loadKubeConfig } from "../../controller-runtime/testing-cluster.ts";
import { rfc3339 } from "../../controller-runtime/time.ts";
import type { KubeObject } from "../../controller-runtime/types.ts";
import { createDatabase } from "../../db/connect.ts";
import { migrateToLatest } from "../../db/migrate.ts";
import type { OutboxEvent } from "../../db/outbox.ts";
import { appendOutbox } from "../../db/outbox.ts";
import type { Database } from "../../db/schema.ts";
import { type ChatSink, startChatSink } from "../../test/support/chat-sink.ts";
import { createTestDatabase, type TestDatabase } from "../../test/support/database.ts";
import { installCrds } from "../../test/support/kubectl.ts";
import { startNotificationsProcess } from "../../test/support/notifications-process.ts";
import { metricValue, type OperatorProcess } from "../../test/support/operator-process.ts";
import { type ReceivedMail, type SmtpSink, startSmtpSink } from "../../test/support/smtp-sink.ts";
import { APIPORTAL, SUBSCRIPTION } from "../gvks.ts";
import { messageIdFor } from "./mail.ts";

// biome-ignore lint/suspicious/noExplicitAny: objects read back from the apiserver, checked field by field
type Json = Record<string, any>;

const kubeconfig = inject("kubeconfig");
const FROM = "Shop Portal <noreply@shop.example>";
const OWNER = "dev@shop.example";
const CLAIM_LEASE_MS = 12_000;

let client: KubeClient;
let ns: string;
let removeNamespace: () => Promise<void>;
let testDb: TestDatabase;
let db: Kysely<Database>;
let smtp: SmtpSink;
let chat: ChatSink;
const running = new Set<OperatorProcess>();
let replica = 0;

// ---------------------------------------------------------------------------------------------------------
// Helpers

async function startOperator(env: Record<string, string> = {}): Promise<OperatorProcess> {
  const op = await startNotificationsProcess(kubeconfig, `notifications-${++replica}`, {
    POD_NAMESPACE: ns,
    WICKED_LOG_LEVEL: "info",
    WICKED_LEASE_NAME: "wicked-notifications-test",
    WICKED_LEASE_DURATION_SECONDS: "4",
    WICKED_RENEW_DEADLINE_SECONDS: "3",
    WICKED_RETRY_PERIOD_SECONDS: "1",
    WICKED_NOTIFICATIONS_POLL_MS: "300",
    WICKED_NOTIFICATIONS_CLAIM_LEASE_MS: String(CLAIM_LEASE_MS),
    WICKED_NOTIFICATIONS_RETRY_BASE_MS: "200",
    WICKED_NOTIFICATIONS_RETRY_CAP_MS: "2000",
    ...env,
  });
  running.add(op);
  return op;
}

async function kill(op: OperatorProcess): Promise<void> {
  await op.kill();
  running.delete(op);
}

async function stop(op: OperatorProcess): Promise<void> {
  await op.stop();
  running.delete(op);
}

function logs(): string {
  return [...running].map((op) => `--- ${op.identity}\n${op.logs().slice(-4000)}`).join("\n");
}

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined | false;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline)
      throw new Error(
        `${what} did not happen within ${timeoutMs / 1000}s; last: ${JSON.stringify(last)}\n${logs()}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

const mailsFor = (key: string): ReceivedMail[] =>
  smtp.messages.filter((m) => m.headers.get("x-wicked-effect-key") === key);
const postsFor = (key: string) => chat.posts.filter((p) => p.idempotencyKey === key);
const deliveries = (key: string): number =>
  key.startsWith("mail:") ? mailsFor(key).length : postsFor(key).length;

/** Waits until every key was delivered and the ledger has nothing left to send. */
async function allDelivered(keys: readonly string[], timeoutMs = 120_000): Promise<void> {
  await eventually(
    `delivery of ${keys.length} notifications`,
    async () => {
      const missing = keys.filter((k) => deliveries(k) === 0);
      if (missing.length > 0) return false;
      const open = await db
        .selectFrom("notification_ledger")
        .select("effect_key")
        .where("status", "in", ["pending", "sending"])
        .execute();
      return open.length === 0;
    },
    timeoutMs,
  );
}

/** Effect keys delivered more than once, with the number of interrupted attempts the ledger recorded. */
async function duplicates(
  keys: readonly string[],
): Promise<Array<{ key: string; copies: number; interrupted: number }>> {
  const dup = keys.filter((k) => deliveries(k) > 1);
  if (dup.length === 0) return [];
  const rows = await db
    .selectFrom("notification_ledger")
    .select(["effect_key", "interrupted_attempts"])
    .where("effect_key", "in", dup)
    .execute();
  const interrupted = new Map(rows.map((r) => [r.effect_key, r.interrupted_attempts]));
  return dup.map((key) => ({ key, copies: deliveries(key), interrupted: interrupted.get(key) ?? 0 }));
}

/**
 * Exactly once, up to SMTP's residual window: every key arrived, and any copy beyond the first belongs to
 * an effect whose claim was taken over after its sender died mid-send (then it carries the same
 * Message-ID). Returns how many such copies there were.
 */
async function expectExactlyOnce(keys: readonly string[]): Promise<number> {
  expect(keys.filter((k) => deliveries(k) === 0)).toEqual([]);
  const dup = await duplicates(keys);
  for (const d of dup) {
    expect(
      d.interrupted,
      `${d.key} arrived ${d.copies} times without an interrupted attempt`,
    ).toBeGreaterThan(0);
    expect(d.copies).toBeLessThanOrEqual(d.interrupted + 1);
    if (d.key.startsWith("mail:")) expect(new Set(mailsFor(d.key).map((m) => m.messageId)).size).toBe(1);
  }
  return dup.reduce((n, d) => n + d.copies - 1, 0);
}

const ago = (ms: number) => rfc3339(new Date(Date.now() - ms));

async function applyObject(obj: Json): Promise<Json> {
  return client.apply({ ...obj, metadata: { ...obj.metadata, namespace: ns } } as KubeObject, {
    force: true,
  });
}

async function secret(name: string, data: Record<string, string>): Promise<void> {
  await applyObject({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
  });
}

async function subscription(name: string, api: string, spec: Json, status: Json): Promise<string> {
  const created = await applyObject({
    apiVersion: "wicked.dev/v1alpha1",
    kind: "Subscription",
    metadata: { name },
    spec: { clientRef: { name: "app" }, apiRef: { name: api }, planRef: { name: "gold" }, ...spec },
  });
  await client.patchMerge(SUBSCRIPTION, { namespace: ns, name }, { status }, { subresource: "status" });
  return created.metadata.uid;
}

const approvedCondition = (status: string, reason: string, at: string) => ({
  type: "Approved",
  status,
  reason,
  message: reason,
  lastTransitionTime: at,
});

async function portalCondition(): Promise<Json | undefined> {
  const portal = await client.get<KubeObject & Json>(APIPORTAL, { namespace: ns, name: "shop" });
  return portal?.status?.conditions?.find((c: Json) => c.type === "NotificationsHealthy");
}

async function events(reason: string): Promise<KubeEvent[]> {
  return (await client.list<KubeEvent>(EVENT_GVK, ns)).filter((e) => e.reason === reason);
}

async function metrics(op: OperatorProcess): Promise<string> {
  return (await fetch(op.metricsUrl)).text();
}

async function ledgerCount(): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM notification_ledger`.execute(db);
  return rows[0]?.n ?? 0;
}

const user = (n: number | string) => ({
  userId: `user-${n}`,
  email: `user${n}@example.com`,
  displayName: `User ${n}`,
});

/** Appends the mixed events of the load tests: returns the keys each implies. */
async function appendMixed(n: number): Promise<string[]> {
  const u = user(`load-${n}`);
  switch (n % 4) {
    case 0: {
      const id = await appendOutbox(db, { type: "UserSignedUp", verifyToken: `v-${n}`, ...u });
      return [`mail:verify-email:${id}`, `chat:team:${id}`];
    }
    case 1: {
      const id = await appendOutbox(db, { type: "PasswordResetRequested", resetToken: `r-${n}`, ...u });
      return [`mail:password-reset:${id}`, `chat:rc:${id}`];
    }
    case 2: {
      const id = await appendOutbox(db, { type: "UserVerified", ...u });
      return [`mail:welcome:${id}`, `chat:ops:${id}`];
    }
    default: {
      const id = await appendOutbox(db, {
        type: "ApplicationAdded",
        namespace: ns,
        application: `app-${n}`,
        applicationDisplayName: `App ${n}`,
        ...u,
      });
      return [`chat:ops:${id}`];
    }
  }
}

// ---------------------------------------------------------------------------------------------------------

beforeAll(async () => {
  installCrds(kubeconfig);
  ({ client } = clientFor(loadKubeConfig(kubeconfig)));
  const namespace = await createNamespace(client, "notify");
  ns = namespace.name;
  removeNamespace = namespace.remove;
  testDb = await createTestDatabase(inject("databaseUrl"));
  db = createDatabase(testDb.url);
  await migrateToLatest(db);
  smtp = await startSmtpSink();
  chat = await startChatSink();

  await db
    .insertInto("users")
    .values([
      { email: "approver-partners@shop.example", display_name: "Pat", groups: ["approver", "partners"] },
      { email: "approver@shop.example", display_name: "Alex", groups: ["approver"] },
      { email: "partner-not-approver@shop.example", display_name: "Pia", groups: ["partners"] },
      { email: OWNER, display_name: "Dev <b>One</b>", groups: [] },
    ])
    .execute();

  await secret("db", { url: testDb.url });
  await secret("smtp", { url: smtp.url });
  await secret("webhooks", {
    slack: chat.url("/slack/team"),
    teams: chat.url("/teams/ops"),
    rocket: chat.url("/rocket/rc"),
  });
  await applyObject({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "mail-templates" },
    data: {
      "welcome.subject": "Willkommen bei {{portalName}}, {{userName}}",
      "welcome.html": "<p>Hallo <em>{{userName}}</em>, schön dass du da bist.</p>",
    },
  });
  await applyObject({
    apiVersion: "wicked.dev/v1alpha1",
    kind: "ApiPortal",
    metadata: { name: "shop" },
    spec: {
      displayName: "Shop Portal",
      urls: { portal: "https://developer.shop.example", gateway: "https://api.shop.example" },
      database: { urlSecretRef: { name: "db", key: "url" } },
      gateway: { mode: "None" },
      mail: {
        smtpSecretRef: { name: "smtp" },
        from: FROM,
        adminAddresses: ["api-team@shop.example"],
        templatesConfigMapRef: { name: "mail-templates" },
      },
      chat: {
        targets: [
          {
            name: "team",
            type: "Slack",
            webhookUrlSecretRef: { name: "webhooks", key: "slack" },
            events: ["SignedUp", "ApprovalRequired"],
          },
          {
            name: "ops",
            type: "Teams",
            webhookUrlSecretRef: { name: "webhooks", key: "teams" },
            events: [
              "UserVerified",
              "ApplicationAdded",
              "ApplicationDeleted",
              "SubscriptionAdded",
              "SubscriptionDeleted",
            ],
          },
          {
            name: "rc",
            type: "RocketChat",
            webhookUrlSecretRef: { name: "webhooks", key: "rocket" },
            events: ["PasswordResetRequested"],
          },
        ],
      },
    },
  });
  const api = (name: string, requiredGroup?: string) => ({
    apiVersion: "wicked.dev/v1alpha1",
    kind: "Api",
    metadata: { name },
    spec: {
      displayName: `${name[0]?.toUpperCase()}${name.slice(1)} API`,
      upstream: { url: "http://upstream.example:8080" },
      routes: [{ paths: [`/${name}`] }],
      plans: ["gold"],
      ...(requiredGroup ? { requiredGroup } : {}),
    },
  });
  await applyObject(api("orders", "partners"));
  await applyObject(api("weather"));
  await applyObject(api("internal", "internal"));
  await applyObject({
    apiVersion: "wicked.dev/v1alpha1",
    kind: "Plan",
    metadata: { name: "gold" },
    spec: { displayName: "Gold", requiresApproval: true },
  });
  await applyObject({
    apiVersion: "wicked.dev/v1alpha1",
    kind: "ApiClient",
    metadata: { name: "app" },
    spec: { displayName: "Checkout App", owner: OWNER },
  });
}, 240_000);

afterAll(async () => {
  for (const op of running) await op.kill();
  await smtp?.stop();
  await chat?.stop();
  await db?.destroy();
  await testDb?.drop();
  await removeNamespace?.();
});

// ---------------------------------------------------------------------------------------------------------

describe("each event", () => {
  const ids: Record<string, string> = {};
  const uids: Record<string, string> = {};
  const keys: string[] = [];
  let op: OperatorProcess;
  let pendingAt = "";
  let requestedAt = "";
  const newbie = {
    userId: "newbie",
    email: "newbie@example.com",
    displayName: `<script>alert("x")</script> Newbie & Co`,
  };

  beforeAll(async () => {
    op = await startOperator();
    ids.signup = await appendOutbox(db, { type: "UserSignedUp", verifyToken: "verify-token-1", ...newbie });
    ids.again = await appendOutbox(db, {
      type: "VerificationRequested",
      verifyToken: "verify-token-2",
      ...newbie,
    });
    ids.verified = await appendOutbox(db, { type: "UserVerified", ...newbie });
    ids.reset = await appendOutbox(db, {
      type: "PasswordResetRequested",
      resetToken: "reset-token-1",
      ...newbie,
    });
    const app = { namespace: "shop", application: "checkout", applicationDisplayName: "Checkout", ...newbie };
    ids.appAdded = await appendOutbox(db, { type: "ApplicationAdded", ...app });
    ids.appDeleted = await appendOutbox(db, { type: "ApplicationDeleted", ...app });
    const sub = {
      namespace: "shop",
      subscription: "checkout-orders",
      application: "checkout",
      api: "orders",
      plan: "gold",
      ...newbie,
    };
    ids.subAdded = await appendOutbox(db, { type: "SubscriptionAdded", ...sub });
    ids.subDeleted = await appendOutbox(db, { type: "SubscriptionDeleted", ...sub });
    ids.rotatedEvent = await appendOutbox(db, {
      type: "CredentialsRotated",
      namespace: "shop",
      subscription: "checkout-orders",
      api: "orders",
      ...newbie,
    } satisfies OutboxEvent);

    pendingAt = ago(5_000);
    uids.pending = await subscription(
      "orders-pending",
      "orders",
      {},
      {
        phase: "PendingApproval",
        conditions: [approvedCondition("False", "PendingApproval", pendingAt)],
      },
    );
    uids.pendingAdmins = await subscription(
      "internal-pending",
      "internal",
      {},
      {
        phase: "PendingApproval",
        conditions: [approvedCondition("False", "PendingApproval", pendingAt)],
      },
    );
    uids.approved = await subscription(
      "weather-approved",
      "weather",
      { approval: { decision: "Approved", decidedBy: "boss@shop.example", plan: "gold" } },
      { phase: "Active", conditions: [approvedCondition("True", "Approved", pendingAt)] },
    );
    uids.rejected = await subscription(
      "orders-rejected",
      "orders",
      {
        approval: {
          decision: "Rejected",
          decidedBy: "boss@shop.example",
          reason: "Only for <partners> & friends",
        },
      },
      { phase: "Rejected", conditions: [approvedCondition("False", "Rejected", pendingAt)] },
    );
    requestedAt = ago(1_000);
    uids.rotated = await subscription(
      "weather-rotated",
      "weather",
      { credentials: { rotation: { requestedAt } } },
      {
        phase: "Active",
        credentialsIssuedAt: new Date().toISOString(),
        conditions: [approvedCondition("True", "AutoApproved", ago(60_000))],
      },
    );
    keys.push(
      `mail:verify-email:${ids.signup}`,
      `mail:verify-email:${ids.again}`,
      `mail:welcome:${ids.verified}`,
      `mail:password-reset:${ids.reset}`,
      `mail:approval-required:${uids.pending}:${pendingAt}`,
      `mail:approval-required:${uids.pendingAdmins}:${pendingAt}`,
      `mail:subscription-approved:${uids.approved}:${pendingAt}`,
      `mail:subscription-rejected:${uids.rejected}`,
      `mail:credentials-rotated:${uids.rotated}:${requestedAt}`,
      `chat:team:${ids.signup}`,
      `chat:team:approval-required:${uids.pending}:${pendingAt}`,
      `chat:team:approval-required:${uids.pendingAdmins}:${pendingAt}`,
      `chat:ops:${ids.verified}`,
      `chat:ops:${ids.appAdded}`,
      `chat:ops:${ids.appDeleted}`,
      `chat:ops:${ids.subAdded}`,
      `chat:ops:${ids.subDeleted}`,
      `chat:rc:${ids.reset}`,
    );
    await allDelivered(keys);
  }, 240_000);

  it("produces exactly one message per effect and nothing else", async () => {
    expect(await expectExactlyOnce(keys)).toBe(0);
    expect(keys.filter((k) => deliveries(k) !== 1)).toEqual([]);
    // This is the file's first scenario, so the sinks hold nothing else: every mail and post they got
    // belongs to an expected effect — nothing for CredentialsRotated in the outbox, nothing for events no
    // chat target listens to.
    expect(smtp.messages.map((m) => m.headers.get("x-wicked-effect-key")).sort()).toEqual(
      keys.filter((k) => k.startsWith("mail:")).sort(),
    );
    expect(chat.posts.map((p) => p.idempotencyKey).sort()).toEqual(
      keys.filter((k) => k.startsWith("chat:")).sort(),
    );
    for (const m of smtp.messages)
      expect(m.messageId).toBe(messageIdFor(m.headers.get("x-wicked-effect-key") ?? "", FROM));
  });

  it("mails the user their one-time links, then removes the tokens from the outbox", async () => {
    const [verify] = mailsFor(`mail:verify-email:${ids.signup}`);
    expect(verify?.envelope).toEqual({ from: "noreply@shop.example", to: ["newbie@example.com"] });
    expect(verify?.subject).toBe("Confirm your email address for Shop Portal");
    expect(verify?.text).toContain("https://developer.shop.example/verify-email?token=verify-token-1");
    expect(mailsFor(`mail:verify-email:${ids.again}`)[0]?.text).toContain("token=verify-token-2");
    const [reset] = mailsFor(`mail:password-reset:${ids.reset}`);
    expect(reset?.subject).toBe("Reset your password for Shop Portal");
    expect(reset?.html).toContain('href="https://developer.shop.example/reset-password?token=reset-token-1"');
    const payloads = await db
      .selectFrom("outbox")
      .select(["id", "payload"])
      .where("id", "in", [ids.signup, ids.again, ids.reset] as string[])
      .execute();
    for (const p of payloads) {
      const payload = p.payload as Record<string, unknown>;
      expect("verifyToken" in payload ? payload.verifyToken : payload.resetToken).toBeNull();
      expect(payload.email).toBe("newbie@example.com");
    }
  });

  it("uses the template override from the ConfigMap and escapes the user's name in HTML", () => {
    const [welcome] = mailsFor(`mail:welcome:${ids.verified}`);
    expect(welcome?.envelope.to).toEqual(["newbie@example.com"]);
    expect(welcome?.subject).toBe(`Willkommen bei Shop Portal, <script>alert("x")</script> Newbie & Co`);
    expect(welcome?.html).toBe(
      "<p>Hallo <em>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Newbie &amp; Co</em>, schön dass du da bist.</p>",
    );
    // The text part is not overridden: the default, with the name as it is (text is not HTML).
    expect(welcome?.text).toContain(`Hello <script>alert("x")</script> Newbie & Co,`);
    for (const m of smtp.messages) expect(m.html).not.toContain("<script>");
  });

  it("asks the approvers of the Api's group, or the admins when it has none", () => {
    const [orders] = mailsFor(`mail:approval-required:${uids.pending}:${pendingAt}`);
    expect(orders?.envelope.to).toEqual(["approver-partners@shop.example"]);
    expect(orders?.subject).toBe("Approval required: Checkout App wants Orders API (Gold)");
    expect(orders?.text).toContain(
      "Dev <b>One</b> <dev@shop.example> subscribed the application Checkout App",
    );
    expect(orders?.html).toContain("Dev &lt;b&gt;One&lt;/b&gt;");
    expect(orders?.text).toContain("https://developer.shop.example/approvals");
    const [internal] = mailsFor(`mail:approval-required:${uids.pendingAdmins}:${pendingAt}`);
    expect(internal?.envelope.to).toEqual(["api-team@shop.example"]);
  });

  it("tells the owner about approval, rejection and rotated credentials", () => {
    const owner = (prefix: string) =>
      smtp.messages.find((m) => m.headers.get("x-wicked-effect-key")?.startsWith(prefix));
    const approved = owner(`mail:subscription-approved:${uids.approved}`);
    expect(approved?.envelope.to).toEqual([OWNER]);
    expect(approved?.subject).toBe("Your subscription to Weather API was approved");
    expect(approved?.text).toContain(
      "boss@shop.example approved the subscription of Checkout App to Weather API (Gold plan)",
    );
    expect(approved?.text).toContain("https://developer.shop.example/applications/app");
    const rejected = owner(`mail:subscription-rejected:${uids.rejected}`);
    expect(rejected?.envelope.to).toEqual([OWNER]);
    expect(rejected?.text).toContain("Only for <partners> & friends");
    expect(rejected?.html).toContain("Only for &lt;partners&gt; &amp; friends");
    const rotated = owner(`mail:credentials-rotated:${uids.rotated}`);
    expect(rotated?.envelope.to).toEqual([OWNER]);
    expect(rotated?.subject).toBe("New credentials for Checkout App on Weather API");
  });

  it("posts to each chat target only the events it listens to, in its format", () => {
    const slack = postsFor(`chat:team:${ids.signup}`)[0];
    expect(slack?.path).toBe("/slack/team");
    expect(slack?.body).toEqual({
      text: 'New sign-up at Shop Portal: &lt;script&gt;alert("x")&lt;/script&gt; Newbie &amp; Co (newbie@example.com)',
    });
    const [approval] = postsFor(`chat:team:approval-required:${uids.pending}:${pendingAt}`);
    expect(approval?.path).toBe("/slack/team");
    expect((approval?.body as { text?: string } | undefined)?.text).toBe(
      "Dev &lt;b&gt;One&lt;/b&gt; subscribed Checkout App to Orders API (Gold plan), which needs an approval: <https://developer.shop.example/approvals|review it>",
    );
    expect(chat.posts.filter((p) => p.path === "/slack/team")).toHaveLength(3);
    const teams = postsFor(`chat:ops:${ids.appAdded}`)[0];
    expect(teams?.path).toBe("/teams/ops");
    expect(JSON.stringify(teams?.body)).toContain("registered the application Checkout at Shop Portal");
    expect(chat.posts.filter((p) => p.path === "/teams/ops")).toHaveLength(5);
    const rocket = postsFor(`chat:rc:${ids.reset}`)[0];
    expect(rocket?.path).toBe("/rocket/rc");
    expect(JSON.stringify(rocket?.body)).toContain("asked to reset their password at Shop Portal");
    expect(JSON.stringify(chat.posts)).not.toContain("reset-token-1");
  });

  it("reports the portal healthy and counts what it sent", async () => {
    expect(
      await eventually(
        "NotificationsHealthy=True",
        async () => (await portalCondition())?.status === "True" && portalCondition(),
      ),
    ).toMatchObject({
      reason: "Delivered",
      message: "Every notification was delivered",
    });
    const text = await metrics(op);
    expect(metricValue(text, "wicked_notifications_sent_total", { channel: "email" })).toBe(9);
    expect(metricValue(text, "wicked_notifications_sent_total", { channel: "teams" })).toBe(5);
    expect(metricValue(text, "wicked_notifications_pending", { portal: `${ns}/shop` })).toBe(0);
  });

  it("sends nothing again when another replica takes over and reconciles everything anew", async () => {
    const rows = await ledgerCount();
    const mails = smtp.messages.length;
    const posts = chat.posts.length;
    await stop(op);
    const next = await startOperator();
    // The new leader reconciles every Subscription and the portal at least once.
    await eventually("a full reconcile by the new replica", async () => {
      const text = await metrics(next);
      return (
        metricValue(text, "controller_runtime_reconcile_total", {
          controller: "subscription-notifications",
          result: "success",
        }) >= 5 &&
        metricValue(text, "controller_runtime_reconcile_total", { controller: "notifications" }) >= 2
      );
    });
    expect(await ledgerCount()).toBe(rows);
    expect(smtp.messages.length).toBe(mails);
    expect(chat.posts.length).toBe(posts);
  });
});

async function onlyOperator(env: Record<string, string> = {}): Promise<OperatorProcess> {
  for (const op of [...running]) await stop(op);
  return startOperator(env);
}

describe("an outage of SMTP and of a chat service", () => {
  it("keeps the messages, reports the failure, and delivers each once when the services are back", async () => {
    const op = await onlyOperator();
    await smtp.stop();
    chat.failWith = 500;
    const keys: string[] = [];
    for (let n = 0; n < 10; n++) {
      const u = user(`outage-${n}`);
      if (n % 2 === 0) {
        const id = await appendOutbox(db, { type: "UserVerified", ...u });
        keys.push(`mail:welcome:${id}`, `chat:ops:${id}`);
      } else {
        const id = await appendOutbox(db, {
          type: "PasswordResetRequested",
          resetToken: `outage-${n}`,
          ...u,
        });
        keys.push(`mail:password-reset:${id}`, `chat:rc:${id}`);
      }
    }
    const failing = await eventually("NotificationsHealthy=False", async () => {
      const c = await portalCondition();
      return c?.status === "False" && c.reason === "DeliveryFailing" && c;
    });
    expect(failing.message).toContain(
      "Notifications could not be delivered yet; they stay pending and are retried with backoff. email: Cannot reach the SMTP server",
    );
    expect(failing.message).toContain("chat target ops: The chat webhook answered 500");
    const warnings = await eventually("a NotificationFailed Event", async () => {
      const e = await events("NotificationFailed");
      return (
        e.some((x) => x.note.includes("Cannot reach the SMTP server")) &&
        e.some((x) => x.note.includes("answered 500")) &&
        e
      );
    });
    expect(warnings.every((e) => e.type === "Warning" && e.regarding.name === "shop")).toBe(true);
    expect(warnings.map((e) => e.note).join("\n")).not.toContain(smtp.url.split("@")[0] ?? "smtp://");
    await eventually("failed attempts and pending notifications in the metrics", async () => {
      const text = await metrics(op);
      return (
        metricValue(text, "wicked_notifications_failed_total", { channel: "email" }) > 0 &&
        metricValue(text, "wicked_notifications_failed_total", { channel: "teams" }) > 0 &&
        metricValue(text, "wicked_notifications_pending", { portal: `${ns}/shop` }) === 20
      );
    });
    // Several rounds of retries while everything is down: still nothing delivered, nothing lost.
    await eventually("retries", async () => {
      const rows = await db
        .selectFrom("notification_ledger")
        .select(["attempts", "status"])
        .where("effect_key", "in", keys)
        .execute();
      return (
        rows.length === 20 && rows.every((r) => r.status !== "sent") && rows.some((r) => r.attempts >= 3)
      );
    });
    expect(keys.filter((k) => deliveries(k) > 0)).toEqual([]);

    await smtp.start();
    chat.failWith = undefined;
    await allDelivered(keys);
    expect(await expectExactlyOnce(keys)).toBe(0);
    expect(keys.filter((k) => deliveries(k) !== 1)).toEqual([]);
    await eventually(
      "NotificationsHealthy=True again",
      async () => (await portalCondition())?.status === "True",
    );
    expect((await events("NotificationsRecovered")).length).toBeGreaterThan(0);
  });
});

describe("a sender that dies in the middle of an SMTP transaction", () => {
  it("sends the mail once when it died before the server accepted it", async () => {
    const op = await onlyOperator();
    const hold = smtp.hold("mail");
    const id = await appendOutbox(db, { type: "UserVerified", ...user("died-before") });
    const key = `mail:welcome:${id}`;
    await hold.reached;
    await kill(op);
    hold.release();
    await startOperator();
    await allDelivered([key, `chat:ops:${id}`]);
    expect(mailsFor(key)).toHaveLength(1);
    const row = await db
      .selectFrom("notification_ledger")
      .selectAll()
      .where("effect_key", "=", key)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: "sent", interrupted_attempts: 1 });
  });

  it("shows the residual window: accepted by the server but not recorded, it arrives twice with one Message-ID", async () => {
    const op = await onlyOperator();
    const hold = smtp.hold("data");
    const id = await appendOutbox(db, { type: "UserVerified", ...user("died-after") });
    const key = `mail:welcome:${id}`;
    await hold.reached;
    await kill(op);
    // The server accepts what it received, as any MTA would; the dead sender never learns it.
    hold.release();
    await eventually("the server's acceptance", () => mailsFor(key).length === 1);
    const next = await startOperator();
    await allDelivered([key, `chat:ops:${id}`]);
    const copies = mailsFor(key);
    expect(copies).toHaveLength(2);
    expect(copies[0]?.messageId).toBe(copies[1]?.messageId);
    expect(copies[0]?.messageId).toBe(messageIdFor(key, FROM));
    const row = await db
      .selectFrom("notification_ledger")
      .selectAll()
      .where("effect_key", "=", key)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: "sent", interrupted_attempts: 1 });
    expect(
      metricValue(await metrics(next), "wicked_notifications_interrupted_total", { channel: "email" }),
    ).toBe(1);
  });
});

describe("100 events while the operator is SIGKILLed and restarted", () => {
  it("delivers every message, exactly once but for sends a kill cut inside the residual window", async () => {
    let op = await onlyOperator();
    smtp.latencyMs = 20;
    const keys: string[] = [];
    const producer = (async () => {
      for (let n = 0; n < 100; n++) {
        keys.push(...(await appendMixed(n)));
        if (n % 5 === 4) await new Promise((r) => setTimeout(r, 150));
      }
    })();
    const kills: number[] = [];
    for (const threshold of [20, 70, 120]) {
      await eventually(
        `${threshold} deliveries`,
        () => keys.filter((k) => deliveries(k) > 0).length >= threshold,
        180_000,
      );
      await kill(op);
      kills.push(keys.filter((k) => deliveries(k) > 0).length);
      op = await startOperator();
    }
    await producer;
    expect(keys).toHaveLength(175);
    await allDelivered(keys, 240_000);
    smtp.latencyMs = 0;
    const extra = await expectExactlyOnce(keys);
    const copies = (await duplicates(keys)).map((d) => d.key);
    const interrupted = await db
      .selectFrom("notification_ledger")
      .select("effect_key")
      .where("effect_key", "in", keys)
      .where("interrupted_attempts", ">", 0)
      .execute();
    console.info(
      `SIGKILLed after ${kills.join(", ")} deliveries; ${interrupted.length} interrupted sends resumed; ${extra} copies from the residual window${copies.length ? ` (${copies.join(", ")})` : ""}`,
    );
    // The kills really happened mid-stream, with messages still to be delivered.
    expect(Math.max(...kills)).toBeLessThan(keys.length);
  }, 600_000);
});

describe("two replicas", () => {
  it("deliver exactly once when both send at the same time (no leader election)", async () => {
    for (const op of [...running]) await stop(op);
    const a = await startOperator({ WICKED_LEADER_ELECTION: "false" });
    const b = await startOperator({ WICKED_LEADER_ELECTION: "false" });
    const keys: string[] = [];
    for (let n = 0; n < 60; n++) keys.push(...(await appendMixed(1000 + n)));
    await allDelivered(keys);
    expect(await expectExactlyOnce(keys)).toBe(0);
    expect(keys.filter((k) => deliveries(k) !== 1)).toEqual([]);
    const sent = [await metrics(a), await metrics(b)].map((t) =>
      metricValue(t, "wicked_notifications_sent_total"),
    );
    console.info(`replica a sent ${sent[0]}, replica b sent ${sent[1]}`);
    expect((sent[0] ?? 0) + (sent[1] ?? 0)).toBe(keys.length);
    await stop(a);
    await stop(b);
  }, 300_000);

  it("deliver exactly once when the leader dies and the standby takes over", async () => {
    const first = await startOperator();
    const second = await startOperator();
    const keys: string[] = [];
    for (let n = 0; n < 20; n++) keys.push(...(await appendMixed(2000 + n)));
    await eventually("some deliveries", () => keys.filter((k) => deliveries(k) > 0).length >= 10);
    const leader = (await metrics(first)).includes(
      'leader_election_master_status{name="wicked-notifications-test"} 1',
    )
      ? first
      : second;
    await kill(leader);
    for (let n = 20; n < 40; n++) keys.push(...(await appendMixed(2000 + n)));
    await allDelivered(keys, 180_000);
    await expectExactlyOnce(keys);
  }, 300_000);
});
