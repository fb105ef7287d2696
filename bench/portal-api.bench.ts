/**
 * portal-api under load: requests per second and p50/p99 latency of the catalog (`GET /apis`, anonymous) and
 * of "my subscriptions" (`GET /subscriptions` with the user's access token), beside a bare fastify + pg
 * baseline that runs exactly the SQL the portal API ran for the same request (captured from a probe
 * instance) on a pool of the same size, and answers the same JSON fields. Measures only.
 */
import Fastify, { type FastifyInstance } from "fastify";
import { type CompiledQuery, Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { createLogger } from "../component/logger.ts";
import type { Database } from "../db/schema.ts";
import { freePort } from "../hack/controlplane/controlplane.ts";
import { createPortalApi } from "../portal-api/app.ts";
import { unreachableKube } from "../portal-api/test-support.ts";
import { bestOfRounds, type LoadResult } from "./load.ts";
import type { BenchPortal } from "./portal-fixture.ts";
import type { BenchResult, Figure } from "./table.ts";

/** Pool size of both sides: the portal API's default (db/connect.ts). */
const POOL_SIZE = 10;

/** A statement as the portal API sent it. */
interface Statement {
  sql: string;
  parameters: readonly unknown[];
}

/** The SQL one request of the portal API runs, in order. */
async function capturedSql(portal: BenchPortal, path: string, token?: string): Promise<Statement[]> {
  const statements: Statement[] = [];
  const pool = new pg.Pool({ connectionString: portal.databaseUrl, max: 2 });
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log: (event) => {
      if (event.level === "query") statements.push(toStatement(event.query));
    },
  });
  const probe = await createPortalApi({
    config: portal.apiConfig,
    db,
    kube: unreachableKube,
    logger: createLogger({ name: "portal-api", level: "silent" }),
  });
  try {
    const res = await probe.app.inject({
      method: "GET",
      url: path,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    if (res.statusCode !== 200) throw new Error(`GET ${path} answered ${res.statusCode}: ${res.body}`);
    return statements;
  } finally {
    await probe.stop();
    await db.destroy();
  }
}

function toStatement(query: CompiledQuery): Statement {
  return { sql: query.sql, parameters: query.parameters };
}

type Row = Record<string, unknown>;

/** The bare baseline: fastify without plugins, validation or authentication, and a pg pool. */
async function startBaseline(
  databaseUrl: string,
  catalog: Statement[],
  mine: { auth: Statement; list: Statement[] },
): Promise<{ url: string; stop(): Promise<void> }> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: POOL_SIZE });
  const run = async (s: Statement) => (await pool.query(s.sql, [...s.parameters])).rows as Row[];
  const app: FastifyInstance = Fastify();
  app.get("/apis", async () => {
    const [rows = [], count = []] = await Promise.all(catalog.map(run));
    return {
      items: rows.map((r) => ({
        name: r.name,
        displayName: r.display_name,
        description: r.description,
        auth: r.auth,
        tags: r.tags,
        deprecated: r.deprecated,
        requiredGroup: r.required_group,
        plans: r.plans,
      })),
      page: 1,
      pageSize: 20,
      total: Number(count[0]?.n),
    };
  });
  app.get("/subscriptions", async () => {
    await run(mine.auth);
    const [rows = [], count = []] = await Promise.all(mine.list.map(run));
    return {
      items: rows.map((r) => ({
        name: r.name,
        application: r.client_name,
        api: r.api_name,
        plan: r.plan_name,
        phase: r.phase,
        approval: r.approved === null ? "Pending" : r.approved ? "Approved" : "Rejected",
        credentialsReady: r.credentials_secret !== null,
      })),
      page: 1,
      pageSize: 20,
      total: Number(count[0]?.n),
    };
  });
  const port = await freePort();
  await app.listen({ port, host: "127.0.0.1" });
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      await app.close();
      await pool.end();
    },
  };
}

function loadFigures(what: string, wicked: LoadResult, baseline: LoadResult): Figure[] {
  return [
    {
      measure: `${what} requests/s`,
      unit: "req/s",
      value: wicked.requestsPerSecond,
      baseline: baseline.requestsPerSecond,
    },
    { measure: `${what} p50 latency`, unit: "ms", value: wicked.p50Ms, baseline: baseline.p50Ms },
    { measure: `${what} p99 latency`, unit: "ms", value: wicked.p99Ms, baseline: baseline.p99Ms },
  ];
}

/** Runs the portal-api benchmark against a started portal. */
export async function runPortalApiBench(
  portal: BenchPortal,
  opts: { durationSeconds: number; rounds: number; connections?: number },
): Promise<BenchResult> {
  const catalog = await capturedSql(portal, "/apis");
  const [auth, ...list] = await capturedSql(portal, "/subscriptions", portal.accessToken);
  if (catalog.length !== 2 || !auth || !/"users"/.test(auth.sql) || list.length !== 2) {
    throw new Error(
      "The portal API's catalog or subscriptions route no longer runs the statements this benchmark replays " +
        "(catalog: rows + count; subscriptions: user lookup, rows + count); update bench/portal-api.bench.ts.",
    );
  }
  const baseline = await startBaseline(portal.databaseUrl, catalog, { auth, list });
  try {
    const connections = opts.connections ?? POOL_SIZE;
    const target = (url: string, headers?: Record<string, string>) => ({
      url,
      headers,
      durationSeconds: opts.durationSeconds,
      connections,
    });
    const bearer = { authorization: `Bearer ${portal.accessToken}` };
    const results = await bestOfRounds(
      {
        catalog: target(`${portal.urls.api}/apis`),
        catalogBase: target(`${baseline.url}/apis`),
        mine: target(`${portal.urls.api}/subscriptions`, bearer),
        mineBase: target(`${baseline.url}/subscriptions`, bearer),
      },
      opts.rounds,
    );
    const failures = Object.entries(results).filter(([, r]) => r.failures > 0);
    return {
      bench: "portal-api",
      figures: [
        ...loadFigures("catalog GET /apis", results.catalog, results.catalogBase),
        ...loadFigures("my subscriptions GET /subscriptions", results.mine, results.mineBase),
      ],
      notes: [
        `best of ${opts.rounds} interleaved runs of ${opts.durationSeconds} s (each after 2 s of warm-up), ${connections} connections, pool of ${POOL_SIZE} on both sides; load generated on a worker thread of the same process.`,
        "read model: 50 Apis (page of 20), a user with 10 applications and 200 subscriptions (page of 20); the baseline replays the SQL the portal API ran (captured), with no token check, schema validation or hooks; wicked checks the access token on every request (its RS256 signature once per token and minute, portal-api/plugins/token-cache.ts) and looks the user up on every request, logs at warn.",
        ...failures.map(([name, r]) => `${name}: ${r.failures} requests failed; its figures are not valid.`),
      ],
    };
  } finally {
    await baseline.stop();
  }
}
