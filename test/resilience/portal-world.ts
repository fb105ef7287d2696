/**
 * A portal ready for a rollout, as the resilience tests (and the bad-input tests) need it: a namespace with
 * an ApiPortal on a Postgres database and the Kong test double, a Plan, a key-auth Api in front of an echo
 * upstream and an ApiClient; the operator runs as its own process (so it can be SIGKILLed) and every process
 * ever started is remembered for the logs. Also reads the snapshot the invariants are checked on.
 *
 * With `mail`, the portal also mails through an SMTP sink in this process (its admin addresses stand in
 * for the approvers, since no user is in the approver group) and the Api offers a second Plan that needs an
 * approval, so Subscriptions under it are told to the approvers and, once approved, to the client's owner.
 */
import { writeFileSync } from "node:fs";
import pg from "pg";
import { type EchoServer, startEchoServer } from "../kong/contract-support.ts";
import { type KongDouble, startKongDouble } from "../kong/kong-double.ts";
import { conditionOf, eventually, type Json } from "../support/cluster.ts";
import { createNamespace, installCrds, kubectlOk } from "../support/kubectl.ts";
import { metricValue, type OperatorProcess, startOperatorProcess } from "../support/operator-process.ts";
import { type SmtpSink, startSmtpSink } from "../support/smtp-sink.ts";
import {
  type KongEntity,
  type RolloutCounts,
  type RolloutSnapshot,
  rolloutCounts,
  rolloutProblems,
} from "./invariants.ts";
import { forEachLimited, type KubeApi, kubeApi } from "./kube-api.ts";
import type { LedgerFacts } from "./notification-invariants.ts";

/** Name of the ApiPortal, Plan, Api and ApiClient every world has. */
export const PORTAL = "portal";
/** The Plan subscriptions use. */
export const PLAN = "basic";
/** The key-auth Api subscriptions use. */
export const API = "orders";
/** The ApiClient subscriptions use. */
export const CLIENT = "app";
/** Its owner, who hears about approvals. */
export const OWNER = "dev@example.com";
/** The Plan that needs an approval (worlds with `mail` only). */
export const APPROVAL_PLAN = "gold";
/** The sender of the portal's mails. */
export const MAIL_FROM = "Resilience Portal <noreply@portal.example.com>";
/** spec.mail.adminAddresses: who is asked for approvals, as no user is in the approver group. */
export const APPROVERS = "approvers@example.com";
/**
 * How long a killed operator's claim on a notification holds it (WICKED_NOTIFICATIONS_CLAIM_LEASE_MS in
 * worlds with `mail`): shorter than the default 60 s so a rollout with many kills does not wait minutes for
 * claims to expire, long enough that the SMTP timeouts derived from it (a quarter) do not fire on a busy
 * machine and cause retries no kill explains.
 */
export const MAIL_CLAIM_LEASE_MS = 30_000;

/** How to set up a world. */
export interface WorldOptions {
  kubeconfig: string;
  /** URL of an empty (or already migrated) database the portal may use. */
  databaseUrl: string;
  /** Prefix of the namespace name. */
  prefix: string;
  /** Environment of every operator process (WICKED_RESYNC_SECONDS, …). */
  operatorEnv?: Record<string, string>;
  /** Whether to wait for DatabaseReady=True before returning; true by default. */
  waitForDatabase?: boolean;
  /** Whether the portal mails (through an SMTP sink) and the Api offers APPROVAL_PLAN too; false by default. */
  mail?: boolean;
}

/** The mail side of a world with `mail`. */
export interface MailWorld {
  /** The SMTP server the portal mails to. */
  sink: SmtpSink;
  /** The portal's notification ledger rows. */
  ledger(): Promise<LedgerFacts[]>;
  /** Whether the ledger has nothing pending or being sent. */
  idle(): Promise<boolean>;
}

/** A running world. */
export interface World {
  kubeconfig: string;
  namespace: string;
  databaseUrl: string;
  kong: KongDouble;
  echo: EchoServer;
  kube: KubeApi;
  /** The portal's mail; only in worlds with `mail`. */
  mail: MailWorld | undefined;
  /** The operator process started last (undefined before the first start). */
  readonly operator: OperatorProcess | undefined;
  /** Starts an operator process with a new identity; it becomes `operator`. */
  startOperator(): Promise<OperatorProcess>;
  /** The tails of every operator's log, newest last, for failure messages. */
  logs(chars?: number): string;
  /** Polls like `eventually`, with the operators' logs on failure. */
  eventually<T>(
    what: string,
    probe: () => T | undefined | false | Promise<T | undefined | false>,
    timeoutMs?: number,
  ): Promise<T>;
  /**
   * Creates Subscriptions of the ApiClient to the Api, 8 requests at a time, in the order given; each under
   * the Plan `planOf` names (PLAN by default).
   */
  createSubscriptions(names: readonly string[], planOf?: (name: string) => string): Promise<void>;
  /** Sets a Subscription's spec.approval to Approved, as an approver would. */
  approve(name: string, decidedBy: string): Promise<void>;
  /** How many of the Subscriptions are Active, and how many there are. */
  progress(): Promise<{ active: number; total: number }>;
  /** Waits until `total` Subscriptions are Active; a timeout says how far the rollout got, by phase. */
  allActive(total: number, timeoutMs: number): Promise<void>;
  /** A condition of the ApiPortal. */
  portalCondition(type: string): Promise<Json | undefined>;
  /** Cluster, read model and Kong, as the invariants read them. */
  snapshot(): Promise<RolloutSnapshot>;
  /**
   * Waits up to `timeoutMs` until the read model and Kong agree with the Subscriptions; returns what still
   * disagrees (nothing when they agree), when the wait ended, and the counts then.
   */
  agreement(timeoutMs: number): Promise<{ problems: string[]; agreedAt: number; counts: RolloutCounts }>;
  /**
   * Stops the operator, deletes the namespace with everything in it, and stops the servers; writes the logs to
   * $WICKED_TEST_LOGS when set.
   */
  stop(): Promise<void>;
}

/** A Subscription of the world's client to its Api under a Plan (PLAN by default). */
export function subscriptionManifest(name: string, plan = PLAN): Json {
  return {
    apiVersion: "wicked.dev/v1alpha1",
    kind: "Subscription",
    metadata: { name },
    spec: { clientRef: { name: CLIENT }, apiRef: { name: API }, planRef: { name: plan } },
  };
}

/** `sub-000`, `sub-001`, … */
export function subscriptionNames(count: number, prefix = "sub", from = 0): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(from + i).padStart(3, "0")}`);
}

/** Every entity of a Kong collection, following the Admin API's pagination. */
export async function listKong(adminUrl: string, collection: string): Promise<KongEntity[]> {
  const all: KongEntity[] = [];
  let offset: string | undefined;
  do {
    const url = `${adminUrl}/${collection}?size=1000${offset ? `&offset=${encodeURIComponent(offset)}` : ""}`;
    const response = await fetch(url);
    if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${await response.text()}`);
    const page = (await response.json()) as { data: KongEntity[]; offset?: string | null };
    all.push(...page.data);
    offset = page.offset ?? undefined;
  } while (offset);
  return all;
}

/** The read-model rows of a namespace's Subscriptions, on a connection of its own (outages leave no stale pool). */
async function subscriptionRows(databaseUrl: string, namespace: string) {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: "wicked-resilience" });
  await client.connect();
  try {
    const result = await client.query<{
      uid: string;
      name: string;
      phase: string;
      credentials_secret: string | null;
    }>("SELECT uid, name, phase, credentials_secret FROM subscriptions WHERE namespace = $1", [namespace]);
    return result.rows;
  } finally {
    await client.end();
  }
}

/** The notification ledger rows of a portal, on a connection of its own. */
async function ledgerRows(databaseUrl: string, portal: string): Promise<LedgerFacts[]> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: "wicked-resilience" });
  await client.connect();
  try {
    const result = await client.query<LedgerFacts>(
      "SELECT effect_key, status, interrupted_attempts FROM notification_ledger WHERE portal = $1",
      [portal],
    );
    return result.rows;
  } finally {
    await client.end();
  }
}

/** Sets up a portal with a plan, an Api and a client in a new namespace; starts no operator yet. */
export async function createWorld(opts: WorldOptions): Promise<World> {
  const { kubeconfig, databaseUrl } = opts;
  installCrds(kubeconfig);
  const namespace = createNamespace(kubeconfig, opts.prefix);
  const kube = kubeApi(kubeconfig);
  const kong = await startKongDouble();
  const echo = await startEchoServer();
  const smtp = opts.mail ? await startSmtpSink() : undefined;
  const operators: OperatorProcess[] = [];
  const logs = (chars = 3000) =>
    operators.map((o) => `--- ${o.identity}\n${o.logs().slice(-chars)}`).join("\n") || "(no operator ran)";
  const poll = <T>(
    what: string,
    probe: () => T | undefined | false | Promise<T | undefined | false>,
    timeoutMs = 60_000,
  ) => eventually(what, probe, timeoutMs, () => logs());

  const secret = kubectlOk(kubeconfig, [
    "create",
    "secret",
    "generic",
    "db",
    "-n",
    namespace,
    `--from-literal=url=${databaseUrl}`,
    "--dry-run=client",
    "-o",
    "json",
  ]);
  kubectlOk(kubeconfig, ["apply", "-n", namespace, "-f", "-"], secret);
  if (smtp) {
    const smtpSecret = kubectlOk(kubeconfig, [
      "create",
      "secret",
      "generic",
      "smtp",
      "-n",
      namespace,
      `--from-literal=url=${smtp.url}`,
      "--dry-run=client",
      "-o",
      "json",
    ]);
    kubectlOk(kubeconfig, ["apply", "-n", namespace, "-f", "-"], smtpSecret);
  }
  const items: Json[] = [
    {
      apiVersion: "wicked.dev/v1alpha1",
      kind: "ApiPortal",
      metadata: { name: PORTAL },
      spec: {
        displayName: "Resilience",
        urls: { portal: "https://portal.example.com", gateway: kong.proxyUrl },
        database: { urlSecretRef: { name: "db", key: "url" } },
        gateway: { mode: "External", adminUrl: kong.adminUrl },
        ...(smtp
          ? { mail: { smtpSecretRef: { name: "smtp" }, from: MAIL_FROM, adminAddresses: [APPROVERS] } }
          : {}),
      },
    },
    {
      apiVersion: "wicked.dev/v1alpha1",
      kind: "Plan",
      metadata: { name: PLAN },
      spec: { displayName: "Basic", rateLimits: { minute: 10_000 } },
    },
    ...(smtp
      ? [
          {
            apiVersion: "wicked.dev/v1alpha1",
            kind: "Plan",
            metadata: { name: APPROVAL_PLAN },
            spec: { displayName: "Gold", requiresApproval: true, rateLimits: { minute: 10_000 } },
          },
        ]
      : []),
    {
      apiVersion: "wicked.dev/v1alpha1",
      kind: "Api",
      metadata: { name: API },
      spec: {
        displayName: "Orders",
        upstream: { url: `http://${echo.host}:${echo.port}` },
        routes: [{ paths: [`/${API}`] }],
        plans: smtp ? [PLAN, APPROVAL_PLAN] : [PLAN],
      },
    },
    {
      apiVersion: "wicked.dev/v1alpha1",
      kind: "ApiClient",
      metadata: { name: CLIENT },
      spec: { displayName: "App", owner: OWNER },
    },
  ];
  kubectlOk(
    kubeconfig,
    ["apply", "-n", namespace, "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "List", items }),
  );

  const world: World = {
    kubeconfig,
    namespace,
    databaseUrl,
    kong,
    echo,
    kube,
    mail: smtp && {
      sink: smtp,
      ledger: () => ledgerRows(databaseUrl, `${namespace}/${PORTAL}`),
      async idle() {
        const rows = await ledgerRows(databaseUrl, `${namespace}/${PORTAL}`);
        return rows.every((r) => r.status !== "pending" && r.status !== "sending");
      },
    },
    get operator() {
      return operators.at(-1);
    },
    async startOperator() {
      const op = await startOperatorProcess(kubeconfig, `${opts.prefix}-op-${operators.length + 1}`, {
        POD_NAMESPACE: namespace,
        // Other tests' namespaces (and their errors) are none of this operator's business.
        WICKED_WATCH_NAMESPACES: namespace,
        WICKED_LOG_LEVEL: "info",
        ...(smtp ? { WICKED_NOTIFICATIONS_CLAIM_LEASE_MS: String(MAIL_CLAIM_LEASE_MS) } : {}),
        ...opts.operatorEnv,
      });
      operators.push(op);
      return op;
    },
    logs,
    eventually: poll,
    async createSubscriptions(names, planOf = () => PLAN) {
      await forEachLimited(names, 8, async (name) => {
        await kube.createWicked("subscriptions", namespace, subscriptionManifest(name, planOf(name)));
      });
    },
    async approve(name, decidedBy) {
      await kube.patchWicked("subscriptions", namespace, name, {
        spec: { approval: { decision: "Approved", decidedBy, plan: APPROVAL_PLAN } },
      });
    },
    async progress() {
      const subs = await kube.listWicked("subscriptions", namespace);
      return { active: subs.filter((s) => s.status?.phase === "Active").length, total: subs.length };
    },
    async allActive(total, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const subs = await kube.listWicked("subscriptions", namespace);
        const phases = new Map<string, number>();
        for (const sub of subs) {
          const phase = String(sub.status?.phase ?? "none");
          phases.set(phase, (phases.get(phase) ?? 0) + 1);
        }
        if (subs.length === total && phases.get("Active") === total) return;
        if (Date.now() > deadline)
          throw new Error(
            `${total} Subscriptions were not Active within ${timeoutMs / 1000}s: ${subs.length} exist, by phase ${JSON.stringify(Object.fromEntries(phases))}\n${logs()}`,
          );
        await new Promise((r) => setTimeout(r, 5_000));
      }
    },
    async agreement(timeoutMs) {
      let problems: string[] = [];
      await poll(
        "the read model and Kong agree with the Subscriptions",
        async () => {
          problems = rolloutProblems(await world.snapshot());
          return problems.length === 0;
        },
        timeoutMs,
      ).catch(() => undefined);
      const agreedAt = Date.now();
      return { problems, agreedAt, counts: rolloutCounts(await world.snapshot()) };
    },
    async portalCondition(type) {
      return conditionOf(await kube.getWicked("apiportals", namespace, PORTAL), type);
    },
    async snapshot() {
      const [subs, secrets, rows, consumers, keyAuths, acls, plugins] = await Promise.all([
        kube.listWicked("subscriptions", namespace),
        kube.secrets(namespace),
        subscriptionRows(databaseUrl, namespace),
        listKong(kong.adminUrl, "consumers"),
        listKong(kong.adminUrl, "key-auths"),
        listKong(kong.adminUrl, "acls"),
        listKong(kong.adminUrl, "plugins"),
      ]);
      return {
        subscriptions: subs.map((s) => ({
          name: String(s.metadata.name),
          uid: String(s.metadata.uid),
          phase: s.status?.phase,
          credentialsSecret: s.status?.credentialsSecret,
        })),
        secrets,
        rows,
        kong: { consumers, keyAuths, acls, plugins },
      };
    },
    async stop() {
      await operators.at(-1)?.stop();
      if (process.env.WICKED_TEST_LOGS) {
        for (const op of operators)
          writeFileSync(`${process.env.WICKED_TEST_LOGS}/${op.identity}.log`, op.logs());
      }
      await kube.deleteNamespace(namespace);
      await kong.stop();
      await echo.stop();
      await smtp?.stop();
    },
  };
  if (opts.waitForDatabase ?? true) {
    await world.startOperator();
    await world.eventually(
      "DatabaseReady=True and the Api programmed in Kong",
      async () =>
        (await world.portalCondition("DatabaseReady"))?.status === "True" &&
        conditionOf(await kube.getWicked("apis", namespace, API), "Programmed")?.status === "True",
      120_000,
    );
  }
  return world;
}

/** The operator's reconcile errors so far, summed over its controllers (0 when the process is gone). */
export async function reconcileErrors(op: OperatorProcess): Promise<number> {
  const text = await fetch(op.metricsUrl).then(
    (r) => r.text(),
    () => "",
  );
  return metricValue(text, "controller_runtime_reconcile_errors_total");
}

/** Whether the operator is the leader, from its metrics. */
export async function isLeading(op: OperatorProcess): Promise<boolean> {
  const text = await fetch(op.metricsUrl).then(
    (r) => r.text(),
    () => "",
  );
  return metricValue(text, "leader_election_master_status") === 1;
}

/** Whether the operator answers /healthz with 200. */
export async function isHealthy(op: OperatorProcess): Promise<boolean> {
  return fetch(`${op.healthUrl}/healthz`).then(
    (r) => r.ok,
    () => false,
  );
}

/** Keys of a few Subscriptions work at the gateway: the Kong entities are not only there but usable. */
export async function keysWork(world: World, secretNames: readonly string[]): Promise<string[]> {
  const secrets = await world.kube.secrets(world.namespace);
  const failures: string[] = [];
  for (const name of secretNames) {
    const key = secrets.get(name)?.apiKey ?? "";
    const status = (await fetch(`${world.kong.proxyUrl}/${API}/ping`, { headers: { "X-Api-Key": key } }))
      .status;
    if (status !== 200) failures.push(`${name}: ${status}`);
  }
  return failures;
}

/** Milliseconds as seconds with one decimal, for reports. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Mean and maximum of durations in ms, for reports. */
export function stats(ms: readonly number[]): string {
  if (ms.length === 0) return "none";
  return `mean ${seconds(ms.reduce((a, b) => a + b, 0) / ms.length)}, max ${seconds(Math.max(...ms))} (n=${ms.length})`;
}
