/**
 * The portal's auth server and portal API running together for integration tests, against the real
 * apiserver and a real Postgres, configured exactly as the operator renders them (componentConfig of an
 * ApiPortal, the generated session and signing Secrets written to a secrets directory).
 *
 * The operator runs in parallel development, so this harness STANDS IN FOR THE OPERATOR where the flows need
 * it: `operator.*` writes the read-model rows (apis, plans, clients, subscriptions) and issues credentials
 * Secrets and Subscription status the way the operator will. Everything else is the product's own code.
 * For tests only; nothing in a component imports it.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import type { Kysely } from "kysely";
import type { ApiClient, ApiPortal, ApiSpec, PlanSpec, Subscription } from "../../api/v1alpha1/index.ts";
import { type AuthServer, createAuthServer } from "../../auth-server/app.ts";
import { parseAuthServerConfig } from "../../auth-server/config.ts";
import { firstPartyClientSecret, readAuthKeys } from "../../auth-server/keys.ts";
import { kubeSecretReader } from "../../auth-server/kube.ts";
import { PORTAL_UI_CLIENT_ID, portalUiRedirectUri } from "../../auth-server/provider.ts";
import { createLogger as apiLogger, createLogger as authLogger } from "../../component/logger.ts";
import { createDatabase } from "../../db/connect.ts";
import { migrateToLatest } from "../../db/migrate.ts";
import type { OutboxEvent } from "../../db/outbox.ts";
import type { Database } from "../../db/schema.ts";
import { componentConfig } from "../../operator/apiportal/components.ts";
import {
  desiredSessionSecret,
  desiredSigningSecret,
  type KeyFactory,
} from "../../operator/apiportal/secrets.ts";
import { cryptoKeys } from "../../operator/controllers/apiportal.controller.ts";
import { SUBSCRIPTION_LABEL } from "../../operator/subscription/credentials.ts";
import { createPortalApi, type PortalApi } from "../../portal-api/app.ts";
import { parsePortalApiConfig } from "../../portal-api/config.ts";
import { portalKube } from "../../portal-api/kube.ts";
import { createTestDatabase, type TestDatabase } from "./database.ts";
import { createNamespace, installCrds, kubectl } from "./kubectl.ts";
import { Browser, formWithAction, type Page } from "./oidc-browser.ts";
import { startUpstreamIdp, type UpstreamIdp } from "./oidc-upstream.ts";

/** A clock tests move by hand (token expiry). */
export interface TestClock {
  now(): Date;
  advance(ms: number): void;
}

/** Tokens from the auth server's token endpoint. */
export interface TokenSet {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  token_type: string;
  expires_in: number;
  scope?: string;
}

/** The scopes the portal UI asks for. */
export const PORTAL_UI_SCOPES =
  "openid email profile offline_access portal.read portal.write portal.approve portal.admin";

/** How to start the stack. */
export interface StackOptions {
  kubeconfig: string;
  databaseUrl: string;
  namespacePrefix: string;
  /** Whether mail (and so email verification) is configured; default true. */
  mail?: boolean;
  /** Start an upstream IdP and configure it as provider `corp` with these group mappings. */
  upstream?: { mappings: Array<{ idpGroup: string; group: string }> };
}

/** A running stack. */
export interface PortalStack {
  namespace: string;
  db: Kysely<Database>;
  clock: TestClock;
  /** The directory with the portal's session and signing keys, as the components mount them. */
  secretsDir: string;
  urls: { portal: string; api: string; auth: string; gateway: string };
  portalUi: { clientId: string; clientSecret: string; redirectUri: string };
  /** The portal's current signing key: its kid and RSA public key as PEM (what Kong's jwt credential holds). */
  signingKey: { kid: string; publicPem: string };
  auth: AuthServer;
  api: PortalApi;
  upstream?: UpstreamIdp;
  /** Every log line of both components so far. */
  logs(): string;
  /** Outbox events, oldest first. */
  outbox(type?: OutboxEvent["type"]): Promise<OutboxEvent[]>;
  /** Calls the portal API over HTTP. */
  call(
    method: string,
    path: string,
    opts?: { token?: string; body?: unknown },
  ): Promise<{ status: number; json: unknown; text: string; headers: Headers }>;
  /** Starts an authorization request as the portal UI; returns the login page and the PKCE verifier. */
  authorize(
    browser: Browser,
    params?: Record<string, string>,
  ): Promise<{ page: Page; verifier: string; state: string }>;
  /** Posts the login form of a login page; returns where the flow ended (a redirect to the UI, or a page). */
  submitLogin(browser: Browser, page: Page, email: string, password: string): Promise<Page>;
  /**
   * The whole portal UI login: authorize, log in, exchange the code. Throws when login fails. `browser`
   * keeps the auth server's session cookie for the test (default: a new browser, thrown away).
   */
  login(email: string, password: string, browser?: Browser): Promise<TokenSet>;
  /** A token endpoint request with client authentication (basic when a secret is given). */
  token(
    params: Record<string, string>,
    client?: { id: string; secret?: string },
  ): Promise<{ status: number; json: Record<string, unknown> }>;
  /** Kubernetes helpers of the test namespace. */
  kube: { custom: CustomObjectsApi; core: CoreV1Api };
  /** STANDS IN FOR THE OPERATOR (see the file comment). */
  operator: {
    api(name: string, spec: ApiSpec): Promise<void>;
    plan(name: string, spec: PlanSpec): Promise<void>;
    mirrorApplication(name: string, clientId?: string): Promise<void>;
    mirrorSubscription(
      name: string,
      state: { phase: string; approved: boolean | null; credentialsSecret?: string | null },
    ): Promise<void>;
    /** Writes `<subscription>-credentials`, granted to the subscription as the operator does, and points status at it. */
    issueCredentials(subscription: string, data: Record<string, string>): Promise<string>;
    /** Marks the subscription Active with its credentials in the named Secret. */
    credentialsIn(subscription: string, secretName: string): Promise<void>;
  };
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

function logSink(lines: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString("utf8"));
      done();
    },
  });
}

/** Starts Postgres (a fresh database), a namespace, both components, and optionally an upstream IdP. */
export async function startPortalStack(opts: StackOptions): Promise<PortalStack> {
  const stops: Array<() => Promise<void>> = [];
  const testDb: TestDatabase = await createTestDatabase(opts.databaseUrl);
  stops.push(() => testDb.drop());
  const db = createDatabase(testDb.url, { maxConnections: 5 });
  stops.push(() => db.destroy());
  await migrateToLatest(db);

  installCrds(opts.kubeconfig);
  const namespace = createNamespace(opts.kubeconfig, opts.namespacePrefix);
  stops.push(async () => {
    kubectl(opts.kubeconfig, ["delete", "namespace", namespace, "--wait=false"]);
  });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(opts.kubeconfig);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const core = kubeConfig.makeApiClient(CoreV1Api);

  const [authPort, apiPort] = [await freePort(), await freePort()];
  const urls = {
    portal: "http://127.0.0.1:9/portal",
    api: `http://127.0.0.1:${apiPort}`,
    auth: `http://127.0.0.1:${authPort}/auth`,
    gateway: "http://gateway.example.com",
  };

  let upstream: UpstreamIdp | undefined;
  if (opts.upstream) {
    upstream = await startUpstreamIdp({ redirectUri: `${urls.auth}/federation/corp/callback` });
    stops.push(() => (upstream as UpstreamIdp).stop());
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: "corp-oidc" }, stringData: { "client-secret": upstream.clientSecret } },
    });
  }

  // The ApiPortal the operator would render the components' configuration and Secrets from.
  const portal: ApiPortal = {
    apiVersion: "wicked.dev/v1alpha1",
    kind: "ApiPortal",
    metadata: { name: "demo", namespace, uid: randomUUID() },
    spec: {
      displayName: "Demo Portal",
      urls,
      database: { urlSecretRef: { name: "demo-db", key: "url" } },
      gateway: { mode: "None" },
      groups: { admin: "admin", approver: "approver", mappings: opts.upstream?.mappings ?? [] },
      login: {
        local: { enabled: true, allowSignup: true, passwordMinLength: 12 },
        oidc: upstream
          ? [
              {
                name: "corp",
                displayName: "Corp SSO",
                issuer: upstream.issuer,
                clientId: upstream.clientId,
                clientSecretRef: { name: "corp-oidc", key: "client-secret" },
                scopes: ["openid", "email", "profile", "groups"],
                groupsClaim: "groups",
              },
            ]
          : [],
      },
      ...(opts.mail === false
        ? {}
        : { mail: { smtpSecretRef: { name: "smtp" }, from: "portal@example.com" } }),
    },
  };
  const secretsDir = mkdtempSync(join(tmpdir(), "wicked-secrets-"));
  stops.push(async () => rmSync(secretsDir, { recursive: true, force: true }));
  const keys: KeyFactory = cryptoKeys;
  const session = desiredSessionSecret(portal, undefined, keys);
  const signing = desiredSigningSecret(portal, undefined, keys, new Date());
  const decode = (secret: typeof session, key: string) =>
    Buffer.from(secret.data?.[key] ?? "", "base64").toString("utf8");
  mkdirSync(join(secretsDir, "session"));
  mkdirSync(join(secretsDir, "signing"));
  writeFileSync(join(secretsDir, "session", "session-key"), decode(session, "session-key"));
  writeFileSync(join(secretsDir, "session", "cookie-keys"), decode(session, "cookie-keys"));
  writeFileSync(join(secretsDir, "signing", "jwks.json"), decode(signing, "jwks.json"));
  const authKeys = readAuthKeys(secretsDir);
  const current = authKeys.jwks.keys[0];
  if (!current) throw new Error("no signing key");
  const { createPublicKey } = await import("node:crypto");
  const publicPem = createPublicKey({ key: current as never, format: "jwk" })
    .export({ type: "spki", format: "pem" })
    .toString();

  let offset = 0;
  const clock: TestClock = {
    now: () => new Date(Date.now() + offset),
    advance: (ms) => {
      offset += ms;
    },
  };
  const lines: string[] = [];
  const authConfig = parseAuthServerConfig(
    JSON.parse(JSON.stringify(componentConfig(portal, "auth-server"))),
  );
  // The operator does not render `mail` for the auth server (yet); the auth server then assumes it is on.
  const apiConfig = parsePortalApiConfig(JSON.parse(JSON.stringify(componentConfig(portal, "portal-api"))));
  const fast = { ln: 10, r: 8, p: 1 };
  const auth = await createAuthServer({
    config: { ...authConfig, mail: { enabled: opts.mail !== false } },
    db,
    secrets: kubeSecretReader(kubeConfig, namespace),
    keys: authKeys,
    logger: authLogger({ name: "auth-server", level: "info", destination: logSink(lines) }),
    clock: clock.now,
    scrypt: fast,
    // Every test logs in from 127.0.0.1: only the per-account login limit is small (and tested).
    throttle: {
      login: {
        perAddress: { max: 10_000, timeWindowMs: 60_000 },
        perAccount: { max: 8, timeWindowMs: 60_000 },
        global: { max: 10_000, timeWindowMs: 60_000 },
      },
      signup: {
        perAddress: { max: 50, timeWindowMs: 60_000 },
        global: { max: 10_000, timeWindowMs: 60_000 },
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
    logger: apiLogger({ name: "portal-api", level: "info", destination: logSink(lines) }),
    clock: clock.now,
    scrypt: fast,
    throttle: {
      perAddress: { max: 100, timeWindowMs: 60_000 },
      perAccount: { max: 100, timeWindowMs: 60_000 },
      global: { max: 10_000, timeWindowMs: 60_000 },
    },
    trustProxy: false,
  });
  await api.app.listen({ port: apiPort, host: "127.0.0.1" });
  stops.push(() => api.stop());

  const portalUi = {
    clientId: PORTAL_UI_CLIENT_ID,
    clientSecret: firstPartyClientSecret(authKeys.sessionKey, PORTAL_UI_CLIENT_ID),
    redirectUri: portalUiRedirectUri(authConfig),
  };

  async function token(
    params: Record<string, string>,
    client = { id: portalUi.clientId, secret: portalUi.clientSecret as string | undefined },
  ) {
    const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
    const body = new URLSearchParams(params);
    if (client.secret !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString("base64")}`;
    } else {
      body.set("client_id", client.id);
    }
    const res = await fetch(`${urls.auth}/token`, { method: "POST", headers, body });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  async function authorize(browser: Browser, params: Record<string, string> = {}) {
    const verifier = randomBytes(32).toString("base64url");
    const state = randomBytes(8).toString("hex");
    const query = new URLSearchParams({
      client_id: portalUi.clientId,
      response_type: "code",
      redirect_uri: portalUi.redirectUri,
      scope: PORTAL_UI_SCOPES,
      code_challenge: createHash("sha256").update(verifier).digest("base64url"),
      code_challenge_method: "S256",
      state,
      // OpenID Connect grants offline_access (a refresh token) only with prompt=consent; the auth server
      // consents for its own clients without asking.
      prompt: "consent",
      ...params,
    });
    // Stops at the redirect to the portal UI: a browser the auth server logs in silently ends there.
    const page = await browser.follow(`${urls.auth}/auth?${query}`, {}, (url) =>
      url.startsWith(portalUi.redirectUri),
    );
    return { page, verifier, state };
  }

  async function submitLogin(browser: Browser, page: Page, email: string, password: string): Promise<Page> {
    const form = formWithAction(page, "/login");
    return browser.follow(
      form.action,
      { form: { ...form.fields, email, password } },
      (url) => url.startsWith(portalUi.redirectUri) || !url.startsWith(urls.auth),
    );
  }

  async function upsert<T extends "apis" | "plans" | "clients" | "subscriptions">(
    table: T,
    row: Record<string, unknown>,
  ): Promise<void> {
    const values = { portal: "demo", generation: 1, resource_version: "1", ...row } as never;
    await db
      .insertInto(table)
      .values(values)
      .onConflict((oc) => oc.columns(["namespace", "name"]).doUpdateSet(values))
      .execute();
  }

  const group = "wicked.dev";
  const version = "v1alpha1";
  const operator: PortalStack["operator"] = {
    async api(name, spec) {
      await upsert("apis", {
        uid: randomUUID(),
        namespace,
        name,
        spec: JSON.stringify(spec),
        display_name: spec.displayName,
        description: spec.description ?? "",
        auth: spec.auth?.type ?? "key-auth",
        required_group: spec.requiredGroup ?? null,
        plans: spec.plans ?? [],
        tags: spec.tags ?? [],
        deprecated: spec.deprecation !== undefined,
      });
    },
    async plan(name, spec) {
      await upsert("plans", {
        uid: randomUUID(),
        namespace,
        name,
        spec: JSON.stringify(spec),
        display_name: spec.displayName,
        description: spec.description ?? "",
        limits: JSON.stringify(spec.rateLimits ?? {}),
        requires_approval: spec.requiresApproval ?? false,
        required_group: spec.requiredGroup ?? null,
      });
    },
    async mirrorApplication(name, clientId) {
      const client = (await custom.getNamespacedCustomObject({
        group,
        version,
        namespace,
        plural: "apiclients",
        name,
      })) as ApiClient;
      await upsert("clients", {
        uid: client.metadata.uid,
        namespace,
        name,
        resource_version: client.metadata.resourceVersion,
        spec: JSON.stringify(client.spec),
        display_name: client.spec.displayName,
        owner: client.spec.owner,
        client_type: client.spec.clientType ?? "confidential",
        client_id: clientId ?? null,
      });
    },
    async mirrorSubscription(name, state) {
      const sub = (await custom.getNamespacedCustomObject({
        group,
        version,
        namespace,
        plural: "subscriptions",
        name,
      })) as Subscription;
      const client = await db
        .selectFrom("clients")
        .select("owner")
        .where("namespace", "=", namespace)
        .where("name", "=", sub.spec.clientRef.name)
        .executeTakeFirstOrThrow();
      await upsert("subscriptions", {
        uid: sub.metadata.uid,
        namespace,
        name,
        resource_version: sub.metadata.resourceVersion,
        spec: JSON.stringify(sub.spec),
        client_name: sub.spec.clientRef.name,
        api_name: sub.spec.apiRef.name,
        plan_name: sub.spec.planRef.name,
        phase: state.phase,
        approved: state.approved,
        credentials_secret: state.credentialsSecret ?? null,
        owner: client.owner,
      });
    },
    async issueCredentials(subscription, data) {
      const secretName = `${subscription}-credentials`;
      await core.createNamespacedSecret({
        namespace,
        body: {
          metadata: { name: secretName, labels: { [SUBSCRIPTION_LABEL]: subscription } },
          stringData: data,
        },
      });
      await operator.credentialsIn(subscription, secretName);
      return secretName;
    },
    async credentialsIn(subscription, secretName) {
      await custom.patchNamespacedCustomObjectStatus(
        {
          group,
          version,
          namespace,
          plural: "subscriptions",
          name: subscription,
          body: {
            status: {
              phase: "Active",
              credentialsSecret: secretName,
              credentialsIssuedAt: new Date().toISOString(),
            },
          },
        },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
      await operator.mirrorSubscription(subscription, {
        phase: "Active",
        approved: true,
        credentialsSecret: secretName,
      });
    },
  };

  return {
    namespace,
    db,
    clock,
    secretsDir,
    urls,
    portalUi,
    signingKey: { kid: current.kid, publicPem },
    auth,
    api,
    upstream,
    logs: () => lines.join(""),
    async outbox(type) {
      const rows = await db.selectFrom("outbox").select(["payload"]).orderBy("id").execute();
      const events = rows.map((r) => r.payload as unknown as OutboxEvent);
      return type ? events.filter((e) => e.type === type) : events;
    },
    async call(method, path, callOpts = {}) {
      const headers: Record<string, string> = {};
      if (callOpts.token) headers.authorization = `Bearer ${callOpts.token}`;
      if (callOpts.body !== undefined) headers["content-type"] = "application/json";
      const res = await fetch(`${urls.api}${path}`, {
        method,
        headers,
        body: callOpts.body === undefined ? undefined : JSON.stringify(callOpts.body),
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, json, text, headers: res.headers };
    },
    authorize,
    submitLogin,
    async login(email, password, browser = new Browser()) {
      const { page, verifier, state } = await authorize(browser);
      const end = await submitLogin(browser, page, email, password);
      const location = end.location ? new URL(end.location) : undefined;
      const code = location?.searchParams.get("code");
      if (!code || location?.searchParams.get("state") !== state) {
        throw new Error(
          `Login of ${email} failed (${end.status}): ${end.location ?? end.body.slice(0, 1500)}`,
        );
      }
      const res = await token({
        grant_type: "authorization_code",
        code,
        redirect_uri: portalUi.redirectUri,
        code_verifier: verifier,
      });
      if (res.status !== 200) throw new Error(`Code exchange failed: ${JSON.stringify(res.json)}`);
      return res.json as unknown as TokenSet;
    },
    token,
    kube: { custom, core },
    operator,
    async stop() {
      for (const stop of stops.reverse()) await stop();
    },
  };
}
