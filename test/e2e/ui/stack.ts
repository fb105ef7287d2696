/**
 * The whole portal for browser tests, as a user meets it: a fresh Postgres database, the real control plane,
 * the real operator (a separate process: it migrates the database, generates the session and signing Secrets,
 * renders each component's config.json, reconciles Apis, Plans, ApiClients and Subscriptions into the read
 * model, credentials Secrets and Kong), the notification controllers with an SMTP sink (verification mail),
 * the Kong test double in front of an echo upstream, and the auth server, portal API and portal UI in this
 * process on free ports, built by their own create functions from the configuration the operator rendered.
 *
 * After the components start, the cluster is only read and written through the asynchronous client: kubectl
 * runs synchronously and would block the in-process servers. For tests only.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import type { Kysely } from "kysely";
import pino from "pino";
import { type AuthServer, createAuthServer } from "../../../auth-server/app.ts";
import { parseAuthServerConfig } from "../../../auth-server/config.ts";
import { readAuthKeys } from "../../../auth-server/keys.ts";
import { kubeSecretReader } from "../../../auth-server/kube.ts";
import { readClientAddressKey } from "../../../component/client-address.ts";
import { createLogger as apiLogger, createLogger as authLogger } from "../../../component/logger.ts";
import { createDatabase } from "../../../db/connect.ts";
import { migrateToLatest } from "../../../db/migrate.ts";
import type { OutboxEvent } from "../../../db/outbox.ts";
import type { Database } from "../../../db/schema.ts";
import { freePort } from "../../../hack/controlplane/controlplane.ts";
import { createPortalApi, type PortalApi } from "../../../portal-api/app.ts";
import { parsePortalApiConfig } from "../../../portal-api/config.ts";
import { portalKube } from "../../../portal-api/kube.ts";
import { parsePortalUiConfig, readPortalUiSecrets } from "../../../portal-ui/config.ts";
import { createPortalUi, type PortalUi } from "../../../portal-ui/main.ts";
import { type EchoServer, startEchoServer } from "../../kong/contract-support.ts";
import { type KongDouble, startKongDouble } from "../../kong/kong-double.ts";
import { eventually } from "../../support/cluster.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { createNamespace, installCrds, kubectlOk } from "../../support/kubectl.ts";
import { startNotificationsProcess } from "../../support/notifications-process.ts";
import { type OperatorProcess, startOperatorProcess } from "../../support/operator-process.ts";
import { type SmtpSink, startSmtpSink } from "../../support/smtp-sink.ts";

// biome-ignore lint/suspicious/noExplicitAny: objects read back from the apiserver, checked field by field
type Json = Record<string, any>;

/** How to start the stack. */
export interface UiStackOptions {
  kubeconfig: string;
  databaseUrl: string;
  namespacePrefix: string;
  /** Branding and content pages of the ApiPortal. */
  portalSpec?: Json;
}

/** A running portal. */
export interface UiStack {
  namespace: string;
  urls: { portal: string; api: string; auth: string; gateway: string };
  db: Kysely<Database>;
  kong: KongDouble;
  echo: EchoServer;
  smtp: SmtpSink;
  ui: PortalUi;
  api: PortalApi;
  auth: AuthServer;
  /** Creates or replaces a wicked resource (Api, Plan, …) in the namespace. */
  apply(manifest: Json): Promise<void>;
  /** Reads a wicked resource; undefined when it does not exist. */
  get(plural: string, name: string): Promise<Json | undefined>;
  /** The verification link mailed to an address (from the SMTP sink, or the outbox as a fallback). */
  verificationLink(email: string, timeoutMs?: number): Promise<string>;
  /** Makes a user a member of portal groups (and an admin), as a portal admin would. */
  setGroups(email: string, groups: string[], admin?: boolean): Promise<void>;
  /** Signs up and verifies a user through the portal API (for users a test does not create in the browser). */
  createUser(email: string, displayName: string, password: string): Promise<void>;
  /** Logs of every component so far (the last `chars` characters of each). */
  logs(chars?: number): string;
  stop(): Promise<void>;
}

function sink(lines: string[], name: string): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(`[${name}] ${chunk.toString("utf8")}`);
      if (lines.length > 20_000) lines.splice(0, 5_000);
      done();
    },
  });
}

/** Starts everything; stop() tears it down in reverse order. */
export async function startUiStack(opts: UiStackOptions): Promise<UiStack> {
  const stops: Array<() => Promise<void>> = [];
  const lines: string[] = [];
  const processes: OperatorProcess[] = [];
  const logs = (chars = 6000) =>
    [
      ...processes.map((p) => `--- ${p.identity}\n${p.logs().slice(-chars)}`),
      `--- components\n${lines.join("").slice(-chars)}`,
    ].join("\n");
  try {
    const testDb: TestDatabase = await createTestDatabase(opts.databaseUrl);
    stops.push(() => testDb.drop());
    const db = createDatabase(testDb.url, { maxConnections: 8 });
    stops.push(() => db.destroy());
    await migrateToLatest(db);

    installCrds(opts.kubeconfig);
    kubectlOk(opts.kubeconfig, ["apply", "-f", "config/admission/"]);
    const namespace = createNamespace(opts.kubeconfig, opts.namespacePrefix);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(opts.kubeconfig);
    const custom = kubeConfig.makeApiClient(CustomObjectsApi);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    stops.push(async () => {
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    });

    const kong = await startKongDouble();
    stops.push(() => kong.stop());
    const echo = await startEchoServer();
    stops.push(() => echo.stop());
    const smtp = await startSmtpSink();
    stops.push(() => smtp.stop());

    const [uiPort, apiPort, authPort] = [await freePort(), await freePort(), await freePort()];
    const urls = {
      portal: `http://127.0.0.1:${uiPort}`,
      api: `http://127.0.0.1:${apiPort}`,
      auth: `http://127.0.0.1:${authPort}/auth`,
      gateway: kong.proxyUrl,
    };

    const secret = async (name: string, data: Record<string, string>) => {
      await core.createNamespacedSecret({ namespace, body: { metadata: { name }, stringData: data } });
    };
    await secret("db", { url: testDb.url });
    await secret("smtp", { url: smtp.url });
    await custom.createNamespacedCustomObject({
      group: "wicked.dev",
      version: "v1alpha1",
      namespace,
      plural: "apiportals",
      body: {
        apiVersion: "wicked.dev/v1alpha1",
        kind: "ApiPortal",
        metadata: { name: "demo" },
        spec: {
          displayName: "Acme Developer Portal",
          urls,
          database: { urlSecretRef: { name: "db", key: "url" } },
          gateway: { mode: "External", adminUrl: kong.adminUrl },
          mail: { smtpSecretRef: { name: "smtp" }, from: "Acme Developers <developers@acme.example>" },
          ...opts.portalSpec,
        },
      },
    });

    const operator = await startOperatorProcess(opts.kubeconfig, `ui-operator-${namespace}`, {
      POD_NAMESPACE: namespace,
      WICKED_LOG_LEVEL: "info",
      WICKED_GATEWAY_RESYNC_SECONDS: "5",
    });
    processes.push(operator);
    stops.push(() => operator.stop());
    const notifications = await startNotificationsProcess(opts.kubeconfig, `ui-notifications-${namespace}`, {
      POD_NAMESPACE: namespace,
      WICKED_LOG_LEVEL: "info",
      WICKED_LEASE_NAME: "wicked-ui-notifications",
      WICKED_NOTIFICATIONS_POLL_MS: "300",
    });
    processes.push(notifications);
    stops.push(() => notifications.stop());

    // What the operator renders: the components' config.json and the portal's generated Secrets.
    const configOf = (component: string) =>
      eventually(
        `ConfigMap demo-${component}`,
        async () => {
          const map = await core
            .readNamespacedConfigMap({ name: `demo-${component}`, namespace })
            .catch(() => undefined);
          const text = map?.data?.["config.json"];
          return text ? (JSON.parse(text) as unknown) : undefined;
        },
        120_000,
        logs,
      );
    const secretData = (name: string) =>
      eventually(
        `Secret ${name}`,
        async () => {
          const s = await core.readNamespacedSecret({ name, namespace }).catch(() => undefined);
          return s?.data
            ? Object.fromEntries(
                Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
              )
            : undefined;
        },
        120_000,
        logs,
      );
    const session = await secretData("demo-session");
    const signing = await secretData("demo-signing-keys");
    const secretsDir = mkdtempSync(join(tmpdir(), "wicked-ui-secrets-"));
    stops.push(async () => rmSync(secretsDir, { recursive: true, force: true }));
    mkdirSync(join(secretsDir, "session"));
    mkdirSync(join(secretsDir, "signing"));
    writeFileSync(join(secretsDir, "session", "session-key"), session["session-key"] ?? "");
    writeFileSync(join(secretsDir, "session", "cookie-keys"), session["cookie-keys"] ?? "");
    writeFileSync(join(secretsDir, "signing", "jwks.json"), signing["jwks.json"] ?? "");

    const authConfig = parseAuthServerConfig(await configOf("auth-server"));
    const apiConfig = parsePortalApiConfig(await configOf("portal-api"));
    const uiConfig = parsePortalUiConfig(await configOf("portal-ui"));
    const fast = { ln: 10, r: 8, p: 1 };

    const auth = await createAuthServer({
      config: authConfig,
      db,
      secrets: kubeSecretReader(kubeConfig, namespace),
      keys: readAuthKeys(secretsDir),
      logger: authLogger({ name: "auth-server", level: "info", destination: sink(lines, "auth-server") }),
      scrypt: fast,
      throttle: {
        login: {
          perAddress: { max: 100, timeWindowMs: 60_000 },
          perAccount: { max: 100, timeWindowMs: 60_000 },
          global: { max: 1_000, timeWindowMs: 60_000 },
        },
        signup: {
          perAddress: { max: 100, timeWindowMs: 60_000 },
          global: { max: 1_000, timeWindowMs: 60_000 },
        },
      },
      trustProxy: false,
      purgeIntervalMs: 0,
    });
    await auth.app.listen({ port: authPort, host: "127.0.0.1" });
    stops.push(() => auth.stop());

    const api = await createPortalApi({
      config: apiConfig,
      db,
      kube: portalKube(kubeConfig, namespace),
      logger: apiLogger({ name: "portal-api", level: "info", destination: sink(lines, "portal-api") }),
      scrypt: fast,
      throttle: {
        perAddress: { max: 200, timeWindowMs: 60_000 },
        perAccount: { max: 200, timeWindowMs: 60_000 },
        global: { max: 1_000, timeWindowMs: 60_000 },
      },
      trustProxy: false,
      clientAddressKey: readClientAddressKey(secretsDir),
    });
    await api.app.listen({ port: apiPort, host: "127.0.0.1" });
    stops.push(() => api.stop());

    const ui = await createPortalUi({
      config: uiConfig,
      secrets: readPortalUiSecrets(secretsDir),
      logger: pino({ level: "info" }, sink(lines, "portal-ui")),
      trustProxy: false,
    });
    await ui.app.listen({ port: uiPort, host: "127.0.0.1" });
    stops.push(() => ui.stop());

    const ref = (plural: string) => ({ group: "wicked.dev", version: "v1alpha1", namespace, plural });
    const pluralOf = (kind: string) => `${kind.toLowerCase()}s`;

    async function outboxToken(email: string): Promise<string | undefined> {
      const rows = await db.selectFrom("outbox").select(["payload"]).orderBy("id", "desc").execute();
      for (const row of rows) {
        const event = row.payload as unknown as OutboxEvent;
        if (
          (event.type === "UserSignedUp" || event.type === "VerificationRequested") &&
          event.email === email &&
          event.verifyToken
        ) {
          return event.verifyToken;
        }
      }
      return undefined;
    }

    const stack: UiStack = {
      namespace,
      urls,
      db,
      kong,
      echo,
      smtp,
      ui,
      api,
      auth,
      async apply(manifest) {
        const plural = pluralOf(String(manifest.kind));
        const name = String(manifest.metadata?.name);
        const existing = await stack.get(plural, name);
        if (existing) {
          await custom.replaceNamespacedCustomObject({
            ...ref(plural),
            name,
            body: {
              ...manifest,
              metadata: { ...manifest.metadata, resourceVersion: existing.metadata.resourceVersion },
            },
          });
        } else {
          await custom.createNamespacedCustomObject({ ...ref(plural), body: manifest });
        }
      },
      async get(plural, name) {
        try {
          return (await custom.getNamespacedCustomObject({ ...ref(plural), name })) as Json;
        } catch (err) {
          if (err instanceof ApiException && err.code === 404) return undefined;
          throw err;
        }
      },
      async verificationLink(email, timeoutMs = 90_000) {
        return eventually(
          `the verification mail to ${email}`,
          () => {
            const mail = [...smtp.messages]
              .reverse()
              .find((m) => m.envelope.to.includes(email) && m.text.includes("/verify-email?token="));
            return mail ? /(https?:\/\/\S+\/verify-email\?token=\S+)/.exec(mail.text)?.[1] : undefined;
          },
          timeoutMs,
          logs,
        ).catch(async (err: unknown) => {
          // No mail (the notification controllers are not running): the token is still in the outbox.
          const token = await outboxToken(email);
          if (!token) throw err;
          return `${urls.portal}/verify-email?token=${encodeURIComponent(token)}`;
        });
      },
      async setGroups(email, groups, admin = false) {
        await db.updateTable("users").set({ groups, is_admin: admin }).where("email", "=", email).execute();
      },
      async createUser(email, displayName, password) {
        const signUp = await fetch(`${urls.api}/accounts`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email, displayName, password }),
        });
        if (signUp.status !== 202)
          throw new Error(`sign-up of ${email} answered ${signUp.status}: ${await signUp.text()}`);
        const token = new URL(await stack.verificationLink(email)).searchParams.get("token");
        const verify = await fetch(`${urls.api}/accounts/verify`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ token }),
        });
        if (verify.status !== 200)
          throw new Error(`verification of ${email} answered ${verify.status}: ${await verify.text()}`);
      },
      logs,
      async stop() {
        for (const stop of stops.reverse()) await stop().catch(() => undefined);
      },
    };
    return stack;
  } catch (err) {
    const context = logs();
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw new Error(`The portal stack did not start: ${(err as Error).message}\n${context}`, { cause: err });
  }
}
