/**
 * Bad input through the portal API (built with createPortalApi and driven through `inject`), against the
 * real apiserver, Postgres and operator: fuzzed requests to every route are answered with a 4xx
 * problem+json, never a 5xx; and a corpus of XSS and SQL-injection payloads travels as data, from
 * Kubernetes resources through the operator's read model to the catalog JSON, and from the API into
 * resources, stored and read back verbatim and never interpreted.
 */
import { Writable } from "node:stream";
import { KubeConfig } from "@kubernetes/client-node";
import fc from "fast-check";
import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { PORTAL_API_SCOPES } from "../../accounts/scopes.ts";
import { createLogger } from "../../component/logger.ts";
import { createDatabase } from "../../db/connect.ts";
import type { Database } from "../../db/schema.ts";
import { createPortalApi, type PortalApi } from "../../portal-api/app.ts";
import type { PortalApiConfig } from "../../portal-api/config.ts";
import { portalKube } from "../../portal-api/kube.ts";
import { InvalidTokenError, type TokenVerifier } from "../../portal-api/plugins/authentication.ts";
import { createWorld, PORTAL, type World } from "../resilience/portal-world.ts";
import type { Json } from "../support/cluster.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { CORPUS } from "./corpus.ts";
import { type FuzzRequest, fuzzRequests, type OpenApiDocument, problemOf } from "./requests.ts";

const SEED = Number(process.env.WICKED_FUZZ_SEED ?? 4242);
/** Fuzzed requests per route. */
const RUNS_PER_ROUTE = 60;
/** The access token the stub verifier accepts, for an admin with every scope. */
const ADMIN_TOKEN = "fuzz-admin-token";

let database: TestDatabase;
let world: World;
let db: Kysely<Database>;
let api: PortalApi;
let adminId: string;
const errorLog: string[] = [];

/** Verifies only ADMIN_TOKEN: the token format is the auth server's business, not this suite's. */
const tokens: TokenVerifier = {
  async verify(token) {
    if (token !== ADMIN_TOKEN)
      throw new InvalidTokenError("The access token is not valid for the portal API.");
    return { sub: adminId, clientId: "portal-ui", scopes: new Set(PORTAL_API_SCOPES) };
  },
};

beforeAll(async () => {
  database = await createTestDatabase(inject("databaseUrl"));
  world = await createWorld({
    kubeconfig: inject("kubeconfig"),
    databaseUrl: database.url,
    prefix: "badapi",
  });
  db = createDatabase(database.url);
  const admin = await db
    .insertInto("users")
    .values({
      email: "fuzzer@example.com",
      display_name: "Fuzzer",
      password_hash: null,
      email_verified_at: new Date(),
      groups: ["admin", "approver"],
      is_admin: true,
      deleted_at: null,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  adminId = admin.id;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(world.kubeconfig);
  const config: PortalApiConfig = {
    portal: { namespace: world.namespace, name: PORTAL },
    displayName: "Bad input",
    urls: {
      portal: "https://portal.example.com",
      api: "https://portal.example.com/api",
      auth: "https://portal.example.com/auth",
      gateway: world.kong.proxyUrl,
    },
    groups: { admin: "admin", approver: "approver", mappings: [] },
    login: { local: { enabled: true, allowSignup: true, passwordMinLength: 12 } },
    mail: { enabled: true },
  };
  const destination = new Writable({
    write(chunk, _encoding, done) {
      errorLog.push(String(chunk));
      done();
    },
  });
  api = await createPortalApi({
    config,
    db,
    kube: portalKube(kubeConfig, world.namespace),
    logger: createLogger({ name: "portal-api", level: "error", destination }),
    tokens,
    scrypt: { ln: 4, r: 8, p: 1 },
    throttle: {
      perAddress: { max: 1_000_000, timeWindowMs: 60_000 },
      perAccount: { max: 1_000_000, timeWindowMs: 60_000 },
      global: { max: 1_000_000, timeWindowMs: 60_000 },
    },
  });
});

afterAll(async () => {
  await api?.stop();
  await db?.destroy();
  await world?.stop();
  await database?.drop();
});

async function send(req: FuzzRequest) {
  return api.app.inject({
    method: req.method as "GET",
    url: req.url,
    headers: req.headers,
    ...(req.payload === undefined ? {} : { payload: req.payload }),
  });
}

describe("fuzzed portal API requests", () => {
  it("are answered with a problem+json 4xx when refused, and never with a 5xx", {
    timeout: 300_000,
  }, async () => {
    const document = (await api.app.inject("/openapi.json")).json() as OpenApiDocument;
    const report: string[] = [];
    const statuses = new Map<number, number>();
    let total = 0;
    const routes = api.routes.filter(
      (r) => r.method !== "HEAD" && !(r.method === "DELETE" && r.url === "/me"),
    );
    for (const route of routes) {
      let tried = 0;
      await fc.assert(
        fc.asyncProperty(fuzzRequests(route, document, ADMIN_TOKEN), async (req) => {
          tried += 1;
          const res = await send(req);
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          const problem = problemOf(res.statusCode, String(res.headers["content-type"] ?? ""), res.body);
          if (problem)
            throw new Error(
              `${req.method} ${req.url.slice(0, 200)}: ${problem}\n${errorLog.slice(-3).join("")}`,
            );
        }),
        { numRuns: RUNS_PER_ROUTE, seed: SEED },
      );
      total += tried;
      report.push(`${route.method} ${route.url}: ${tried}`);
    }
    console.log(
      [
        `Fuzzed portal API requests (seed ${SEED}): ${total} inputs over ${routes.length} routes`,
        `  per route: ${report.join(", ")}`,
        `  statuses: ${[...statuses]
          .sort(([a], [b]) => a - b)
          .map(([s, n]) => `${s}×${n}`)
          .join(", ")}`,
      ].join("\n"),
    );
    expect(total).toBeGreaterThanOrEqual(routes.length * RUNS_PER_ROUTE);
  });

  it("answers classic malformed bodies with a problem+json 4xx", async () => {
    const deep = `${"[".repeat(20_000)}${"]".repeat(20_000)}`;
    const cases: Array<{ name: string; contentType: string; payload: string }> = [
      { name: "truncated JSON", contentType: "application/json", payload: '{"displayName": "x' },
      { name: "not JSON at all", contentType: "application/json", payload: "<xml/>" },
      {
        name: "__proto__ pollution",
        contentType: "application/json",
        payload: '{"__proto__": {"isAdmin": true}}',
      },
      {
        name: "constructor.prototype pollution",
        contentType: "application/json",
        payload: '{"constructor": {"prototype": {"isAdmin": true}}}',
      },
      { name: "20 000 nested arrays", contentType: "application/json", payload: deep },
      {
        name: "a body over the 1 MiB limit",
        contentType: "application/json",
        payload: `"${"x".repeat(1_100_000)}"`,
      },
      {
        name: "a form instead of JSON",
        contentType: "application/x-www-form-urlencoded",
        payload: "displayName=x",
      },
      { name: "text instead of JSON", contentType: "text/plain", payload: "displayName" },
      {
        name: "UTF-16 declared",
        contentType: "application/json; charset=utf-16",
        payload: '{"displayName":"x"}',
      },
      { name: "lone surrogate", contentType: "application/json", payload: '{"displayName": "\\ud800"}' },
      { name: "NUL character", contentType: "application/json", payload: '{"displayName": "a\\u0000b"}' },
    ];
    const outcomes: string[] = [];
    for (const c of cases) {
      for (const [method, url] of [
        ["POST", "/applications"],
        ["PATCH", "/me"],
        ["POST", "/accounts"],
      ] as const) {
        const res = await api.app.inject({
          method,
          url,
          headers: { "content-type": c.contentType, authorization: `Bearer ${ADMIN_TOKEN}` },
          payload: c.payload,
        });
        const problem = problemOf(res.statusCode, String(res.headers["content-type"] ?? ""), res.body);
        expect(
          problem,
          `${c.name} to ${method} ${url}: ${problem}\n${errorLog.slice(-3).join("")}`,
        ).toBeUndefined();
        outcomes.push(`${c.name} -> ${method} ${url}: ${res.statusCode}`);
      }
    }
    console.log(`Malformed bodies: ${outcomes.length} inputs\n  ${outcomes.join("\n  ")}`);
  });
});

describe("XSS and SQL-injection payloads", () => {
  const apiName = (i: number) => `xss-${i}`;
  const planName = (i: number) => `xss-plan-${i}`;

  it("travel from resources through the read model to the catalog verbatim, and search treats them literally", {
    timeout: 300_000,
  }, async () => {
    const tablesBefore = await tableNames();
    for (const [i, payload] of CORPUS.entries()) {
      await world.kube.createWicked("plans", world.namespace, {
        apiVersion: "wicked.dev/v1alpha1",
        kind: "Plan",
        metadata: { name: planName(i) },
        spec: { displayName: payload, description: `${payload}\n\n**${payload}**` },
      });
      await world.kube.createWicked("apis", world.namespace, {
        apiVersion: "wicked.dev/v1alpha1",
        kind: "Api",
        metadata: { name: apiName(i) },
        spec: {
          displayName: payload,
          description: `# ${payload}\n\n${payload}`,
          tags: [payload],
          upstream: { url: "http://xss.example.com" },
          routes: [{ paths: [`/xss-${i}`] }],
          plans: [planName(i)],
        },
      });
    }
    const catalog = await world.eventually(
      "every payload in the catalog",
      async () => {
        const res = await api.app.inject("/apis?pageSize=100");
        const body = res.json() as { items: Json[] };
        return body.items.filter((a) => a.name.startsWith("xss-")).length === CORPUS.length && res;
      },
      120_000,
    );
    expect(catalog.headers["content-type"]).toMatch(/^application\/json/);
    const items = new Map((catalog.json() as { items: Json[] }).items.map((a) => [a.name, a]));
    for (const [i, payload] of CORPUS.entries()) {
      expect(items.get(apiName(i)), payload).toMatchObject({
        displayName: payload,
        description: `# ${payload}\n\n${payload}`,
        tags: [payload],
      });
      await world.eventually(`the plan of ${apiName(i)} in the read model`, async () => {
        const detail = (await api.app.inject(`/apis/${apiName(i)}`)).json() as Json;
        return detail.planDetails?.length === 1 && detail;
      });
      const detail = (await api.app.inject(`/apis/${apiName(i)}`)).json() as Json;
      expect(detail.displayName).toBe(payload);
      expect(detail.planDetails[0]).toMatchObject({
        displayName: payload,
        description: `${payload}\n\n**${payload}**`,
      });
    }

    const everything = [...items.values()];
    const searched: string[] = [];
    for (const payload of CORPUS) {
      const q = payload.slice(0, 100);
      const res = await api.app.inject({ method: "GET", url: "/apis", query: { q, pageSize: "100" } });
      expect(res.statusCode, `search for ${payload}`).toBe(200);
      const found = (res.json() as { items: Json[] }).items.map((a) => a.name).sort();
      const needle = q.toLowerCase();
      const expected = everything
        .filter((a) =>
          [a.name, a.displayName, a.description].some((t: string) => t.toLowerCase().includes(needle)),
        )
        .map((a) => a.name)
        .sort();
      expect(found, `search for ${payload}`).toEqual(expected);
      const byTag = await api.app.inject({ method: "GET", url: "/apis", query: { tag: payload } });
      expect(byTag.statusCode).toBe(200);
      expect((byTag.json() as { items: Json[] }).items.map((a) => a.name)).toEqual([
        apiName(CORPUS.indexOf(payload)),
      ]);
      const asName = await api.app.inject(`/apis/${encodeURIComponent(payload)}`);
      expect(asName.statusCode).toBeGreaterThanOrEqual(400);
      expect(asName.statusCode).toBeLessThan(500);
      searched.push(`${JSON.stringify(payload)}: ${found.length}`);
    }
    expect(await tableNames()).toEqual(tablesBefore);
    const users = await db.selectFrom("users").select(["id"]).where("id", "=", adminId).execute();
    expect(users).toHaveLength(1);
    console.log(
      `XSS/SQL-injection corpus: ${CORPUS.length} payloads as Api and Plan display names, descriptions and tags, read back verbatim; ${CORPUS.length * 3} searches (q, tag, name) answered literally\n  matches per search: ${searched.join(", ")}`,
    );
  });

  it("travel from the portal API into resources and back verbatim", { timeout: 300_000 }, async () => {
    const created: Array<{ name: string; displayName: string }> = [];
    for (const [i, payload] of CORPUS.entries()) {
      const displayName = `A${i} ${payload}`.slice(0, 100);
      const res = await api.app.inject({
        method: "POST",
        url: "/applications",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        payload: { displayName, description: payload },
      });
      expect(res.statusCode, `${payload}: ${res.body}`).toBe(201);
      const body = res.json() as Json;
      expect(body.displayName).toBe(displayName);
      expect(body.description).toBe(payload);
      expect(body.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      created.push({ name: body.name, displayName });
      const stored = await world.kube.getWicked("apiclients", world.namespace, body.name);
      expect(stored?.spec).toMatchObject({ displayName, description: payload });
    }
    await world.eventually(
      "the applications in the read model",
      async () => {
        const res = await api.app.inject({
          method: "GET",
          url: "/applications?pageSize=100",
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        const listed = new Map((res.json() as { items: Json[] }).items.map((a) => [a.name, a.displayName]));
        return created.every((c) => listed.get(c.name) === c.displayName);
      },
      120_000,
    );
    console.log(
      `XSS/SQL-injection corpus through POST /applications: ${created.length} payloads stored and listed verbatim`,
    );
  });
});

/** The tables of the public schema: an injected DROP TABLE would show here. */
async function tableNames(): Promise<string[]> {
  const result = await sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`.execute(db);
  return result.rows.map((r) => r.table_name).sort();
}
