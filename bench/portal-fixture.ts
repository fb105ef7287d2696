/**
 * A running portal for the component benchmarks: the portal API, the auth server and the portal UI, built
 * from their create functions with the configuration the operator renders for an ApiPortal (gateway None, no
 * mail) and the keys it generates, over a fresh database seeded with a read model as the operator writes it:
 * 50 Apis (one OAuth2), two plans, a user with 10 applications and 200 subscriptions, and one OAuth2
 * client_credentials subscription of another owner. No cluster: the routes measured never call Kubernetes,
 * and the credentials Secret of the OAuth2 client comes from memory instead of the namespace.
 */
import { randomUUID } from "node:crypto";
import { importJWK, SignJWT } from "jose";
import type { Kysely } from "kysely";
import pino from "pino";
import { PORTAL_API_SCOPES } from "../accounts/index.ts";
import type { ApiPortal, ApiSpec } from "../api/v1alpha1/index.ts";
import { type AuthServer, createAuthServer } from "../auth-server/app.ts";
import { parseAuthServerConfig } from "../auth-server/config.ts";
import { type PrivateJwk, parseAuthKeys } from "../auth-server/keys.ts";
import { createLogger as apiLogger } from "../component/logger.ts";
import { createDatabase } from "../db/connect.ts";
import { migrateToLatest } from "../db/migrate.ts";
import type { Database } from "../db/schema.ts";
import { freePort } from "../hack/controlplane/controlplane.ts";
import { componentConfig } from "../operator/apiportal/components.ts";
import { desiredSessionSecret, desiredSigningSecret } from "../operator/apiportal/secrets.ts";
import { cryptoKeys } from "../operator/controllers/apiportal.controller.ts";
import { createPortalApi, type PortalApi } from "../portal-api/app.ts";
import { type PortalApiConfig, parsePortalApiConfig } from "../portal-api/config.ts";
import { unreachableKube } from "../portal-api/test-support.ts";
import { parsePortalUiConfig, parsePortalUiSecrets } from "../portal-ui/config.ts";
import { createPortalUi, type PortalUi } from "../portal-ui/main.ts";
import { COOKIES, type Session } from "../portal-ui/session.ts";
import { createTestDatabase } from "../test/support/database.ts";

/** How much read model to seed. */
export const SEED = { apis: 50, applications: 10, subscriptionsPerApplication: 20 } as const;

/** The OAuth2 client_credentials client of the seeded read model. */
export interface MachineClient {
  clientId: string;
  clientSecret: string;
}

/** A running portal. */
export interface BenchPortal {
  urls: { portal: string; api: string; auth: string; gateway: string };
  db: Kysely<Database>;
  /** The database's URL (the baselines open their own pool on it). */
  databaseUrl: string;
  /** The portal namespace the read model is keyed by. */
  namespace: string;
  api: PortalApi;
  auth: AuthServer;
  ui: PortalUi;
  /** The seeded user's id and email. */
  user: { id: string; email: string };
  /** An access token of the seeded user for the portal API, signed with the portal's signing key. */
  accessToken: string;
  /** The `Cookie` header of a portal UI session of the seeded user. */
  sessionCookie: string;
  machine: MachineClient;
  /** The portal API's configuration, to build another instance over another database handle. */
  apiConfig: PortalApiConfig;
  /** The portal's current signing key (private JWK), for baselines that sign with the same key type. */
  signingKey: PrivateJwk;
  /** The name of an Api with an inline OpenAPI document. */
  sampleApi: string;
  stop(): Promise<void>;
}

const NAMESPACE = unreachableKube.namespace;
const PORTAL = "demo";
const USER_EMAIL = "dev@example.com";

/** A small OpenAPI document, so the Api page renders a reference. */
function openApiDocument(title: string): string {
  return JSON.stringify({
    openapi: "3.0.3",
    info: { title, version: "1.0.0" },
    paths: {
      "/orders": {
        get: { summary: "List orders", responses: { 200: { description: "The orders." } } },
        post: { summary: "Place an order", responses: { 201: { description: "Placed." } } },
      },
      "/orders/{id}": {
        get: {
          summary: "Read an order",
          parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
          responses: { 200: { description: "The order." }, 404: { description: "No such order." } },
        },
      },
    },
  });
}

/** The read model rows, as plain values: pure, so the seed is the same on every run. */
export function seedRows(userId: string) {
  const apis = Array.from({ length: SEED.apis }, (_, i) => {
    const name = i === 0 ? "payments" : `api-${String(i).padStart(2, "0")}`;
    const spec: ApiSpec = {
      displayName: i === 0 ? "Payments" : `Service ${i}`,
      description: `The **${name}** API: orders, invoices and everything a shop needs. `.repeat(3),
      upstream: { url: `http://${name}.internal:8080` },
      routes: [{ paths: [`/${name}`] }],
      plans: ["basic", "gold"],
      tags: i % 2 === 0 ? ["commerce"] : ["internal", "reporting"],
      ...(i === 0
        ? { auth: { type: "oauth2", scopes: [{ name: "payments.read" }], flows: ["client_credentials"] } }
        : { openApi: { inline: openApiDocument(`Service ${i}`) } }),
    } as ApiSpec;
    return { name, spec };
  });
  const applications = Array.from({ length: SEED.applications }, (_, i) => `app-${i}`);
  const subscriptions = applications.flatMap((app) =>
    apis.slice(1, 1 + SEED.subscriptionsPerApplication).map((api) => ({ app, api: api.name })),
  );
  return { apis, applications, subscriptions, userId };
}

/** Starts the three components over a fresh database on the server `adminUrl` points at. */
export async function startBenchPortal(adminUrl: string): Promise<BenchPortal> {
  const stops: Array<() => Promise<void>> = [];
  try {
    const testDb = await createTestDatabase(adminUrl);
    stops.push(() => testDb.drop());
    // The components' default pool (10 connections), as main.ts opens it.
    const db = createDatabase(testDb.url, { applicationName: "wicked-bench" });
    stops.push(() => db.destroy());
    await migrateToLatest(db);

    const [uiPort, apiPort, authPort] = [await freePort(), await freePort(), await freePort()];
    const urls = {
      portal: `http://127.0.0.1:${uiPort}`,
      api: `http://127.0.0.1:${apiPort}`,
      auth: `http://127.0.0.1:${authPort}/auth`,
      gateway: "http://gateway.example.com",
    };
    const portal: ApiPortal = {
      apiVersion: "wicked.dev/v1alpha1",
      kind: "ApiPortal",
      metadata: { name: PORTAL, namespace: NAMESPACE, uid: randomUUID() },
      spec: {
        displayName: "Bench Portal",
        urls,
        database: { urlSecretRef: { name: "db", key: "url" } },
        gateway: { mode: "None" },
        login: { local: { enabled: true, allowSignup: true, passwordMinLength: 12 } },
      },
    };
    const decode = (data: Record<string, string> | undefined, key: string) =>
      Buffer.from(data?.[key] ?? "", "base64").toString("utf8");
    const session = desiredSessionSecret(portal, undefined, cryptoKeys).data;
    const signing = desiredSigningSecret(portal, undefined, cryptoKeys, new Date()).data;
    const keyFiles = {
      jwks: decode(signing, "jwks.json"),
      cookieKeys: decode(session, "cookie-keys"),
      sessionKey: decode(session, "session-key"),
    };
    const authKeys = parseAuthKeys(keyFiles);
    const signingKey = authKeys.jwks.keys[0];
    if (!signingKey) throw new Error("The generated signing Secret holds no key");
    const configOf = (component: "auth-server" | "portal-api" | "portal-ui") =>
      JSON.parse(JSON.stringify(componentConfig(portal, component))) as unknown;

    const machine = { clientId: `bench-${randomUUID()}`, clientSecret: randomUUID() };
    const user = { id: randomUUID(), email: USER_EMAIL };
    await seed(db, seedRows(user.id));

    // Logs at warn: the request path is measured, not the log sink (the baselines log nothing).
    const quiet = { level: "warn" };
    const auth = await createAuthServer({
      config: { ...parseAuthServerConfig(configOf("auth-server")), mail: { enabled: false } },
      db,
      secrets: {
        readSecret: async (name) =>
          name === "machine-payments-credentials"
            ? { clientId: machine.clientId, clientSecret: machine.clientSecret }
            : undefined,
      },
      keys: authKeys,
      logger: pino(quiet),
      trustProxy: false,
      purgeIntervalMs: 0,
    });
    await auth.app.listen({ port: authPort, host: "127.0.0.1" });
    stops.push(() => auth.stop());

    const apiConfig = parsePortalApiConfig(configOf("portal-api"));
    const api = await createPortalApi({
      config: apiConfig,
      db,
      kube: unreachableKube,
      logger: apiLogger({ name: "portal-api", ...quiet }),
      trustProxy: false,
    });
    await api.app.listen({ port: apiPort, host: "127.0.0.1" });
    stops.push(() => api.stop());

    const ui = await createPortalUi({
      config: parsePortalUiConfig(configOf("portal-ui")),
      secrets: parsePortalUiSecrets(keyFiles),
      logger: pino(quiet),
      trustProxy: false,
    });
    await ui.app.listen({ port: uiPort, host: "127.0.0.1" });
    stops.push(() => ui.stop());

    // What the auth server issues the portal UI at login (RFC 9068), signed with the same key.
    const expiresAt = Math.floor(Date.now() / 1000) + 4 * 60 * 60;
    const accessToken = await new SignJWT({ client_id: "portal-ui", scope: PORTAL_API_SCOPES.join(" ") })
      .setProtectedHeader({ alg: "RS256", typ: "at+jwt", kid: signingKey.kid })
      .setIssuer(urls.auth)
      .setAudience(urls.api)
      .setSubject(user.id)
      .setIssuedAt()
      .setExpirationTime(expiresAt)
      .sign(await importJWK(signingKey, "RS256"));
    const uiSession: Session = {
      user: { id: user.id, email: user.email, name: "Dev Eloper", admin: false, approver: false },
      accessToken,
      expiresAt,
    };
    const cookieValue = ui.app.cookieSealer.seal(COOKIES.session, uiSession, 4 * 60 * 60);
    return {
      urls,
      db,
      databaseUrl: testDb.url,
      namespace: NAMESPACE,
      api,
      auth,
      ui,
      user,
      accessToken,
      sessionCookie: `${COOKIES.session}=${encodeURIComponent(cookieValue)}`,
      machine,
      apiConfig,
      signingKey,
      sampleApi: "api-01",
      async stop() {
        for (const stop of stops.reverse()) await stop();
      },
    };
  } catch (err) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw err;
  }
}

/** Writes the read model rows the operator would write. */
async function seed(db: Kysely<Database>, rows: ReturnType<typeof seedRows>): Promise<void> {
  const meta = (name: string) => ({
    uid: randomUUID(),
    namespace: NAMESPACE,
    name,
    portal: PORTAL,
    generation: 1,
    resource_version: "1",
  });
  await db
    .insertInto("users")
    .values({
      id: rows.userId,
      email: USER_EMAIL,
      display_name: "Dev Eloper",
      password_hash: null,
      email_verified_at: new Date(),
      deleted_at: null,
    })
    .execute();
  await db
    .insertInto("plans")
    .values(
      ["basic", "gold"].map((name) => ({
        ...meta(name),
        spec: JSON.stringify({ displayName: name }),
        display_name: name === "basic" ? "Basic" : "Gold",
        description: `The ${name} plan.`,
        limits: JSON.stringify(name === "basic" ? { minute: 100 } : { minute: 10_000 }),
        requires_approval: false,
        required_group: null,
      })),
    )
    .execute();
  await db
    .insertInto("apis")
    .values(
      rows.apis.map(({ name, spec }) => ({
        ...meta(name),
        spec: JSON.stringify(spec),
        display_name: spec.displayName,
        description: spec.description ?? "",
        auth: spec.auth?.type ?? "key-auth",
        required_group: null,
        plans: spec.plans ?? [],
        tags: spec.tags ?? [],
        deprecated: false,
      })),
    )
    .execute();
  const client = (name: string, owner: string) => ({
    ...meta(name),
    spec: JSON.stringify({ displayName: name, owner, clientType: "confidential" }),
    display_name: name,
    owner,
    client_type: "confidential" as const,
    client_id: null,
  });
  await db
    .insertInto("clients")
    .values([
      ...rows.applications.map((app) => client(app, USER_EMAIL)),
      client("machine", "ops@example.com"),
    ])
    .execute();
  const subscription = (app: string, api: string, owner: string, credentials: string | null) => ({
    ...meta(`${app}-${api}`),
    spec: JSON.stringify({ clientRef: { name: app }, apiRef: { name: api }, planRef: { name: "basic" } }),
    client_name: app,
    api_name: api,
    plan_name: "basic",
    phase: "Active",
    approved: true,
    credentials_secret: credentials,
    owner,
  });
  await db
    .insertInto("subscriptions")
    .values([
      ...rows.subscriptions.map((s) => subscription(s.app, s.api, USER_EMAIL, null)),
      subscription("machine", "payments", "ops@example.com", "machine-payments-credentials"),
    ])
    .execute();
}
