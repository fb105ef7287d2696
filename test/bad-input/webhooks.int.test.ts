/**
 * Bad input that only the admission webhooks can refuse: generated requests that the CRD schema accepts but
 * that break a rule spanning objects (references that do not exist or are being deleted, plans an Api does
 * not offer, open or switched-off Apis, a second subscription, clashing routes, withdrawing a plan in use,
 * opening a subscribed Api, a second portal). The chart installs the webhook configurations, scoped to this
 * file's namespace by a label and pointed at a `wicked webhooks` process on this host; the operator runs as
 * its own process against a database of its own. Each request must be refused by the right webhook with a
 * message naming the problem and leave nothing stored, and the operator must never see it; generated valid
 * neighbours must be admitted with exactly the warnings the webhooks promise.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  CHART,
  helm,
  helmOk,
  localWebhookValues,
  serviceAccountKubeconfig,
  startWebhookProcess,
  type WebhookProcess,
  writeWebhookCertificate,
} from "../../charts/wicked/testing.ts";
import { freePort } from "../../hack/controlplane/controlplane.ts";
import { kubeApi } from "../resilience/kube-api.ts";
import { isHealthy, reconcileErrors } from "../resilience/portal-world.ts";
import { conditionOf, eventually, type Json } from "../support/cluster.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { createNamespace, installCrds, kubectl, kubectlOk } from "../support/kubectl.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator-process.ts";
import { type AdmissionClient, type Answer, admissionClient } from "./admission-client.ts";
import {
  type AdmissionCase,
  clashingApis,
  clashingRouteChanges,
  type Fresh,
  type InvalidCase,
  invalidSubscriptions,
  openings,
  planFlavours,
  secondPortals,
  unresolvedSubscriptions,
  type ValidCase,
  validApis,
  validPlan,
  validSubscriptions,
  withdrawals,
} from "./cross-object-cases.ts";
import {
  clientManifest,
  DOOMED,
  doomedManifests,
  subscriptionManifest,
  UPCOMING_PLANS,
  worldManifests,
} from "./cross-object-world.ts";

const SEED = Number(process.env.WICKED_FUZZ_SEED ?? 4242);
const kubeconfig = inject("kubeconfig");
const id = Math.random().toString(36).slice(2, 8);
const release = `badhooks-${id}`;
const releaseNamespace = `wicked-badhooks-${id}`;
let ns = "";
let port: number;
let server: WebhookProcess | undefined;
let operator: OperatorProcess | undefined;
let database: TestDatabase | undefined;
let client: AdmissionClient;
let serial = 0;
const fresh: Fresh = (prefix) => `${prefix}${(serial++).toString(36)}`;
/** Names of objects whose creation was refused; the operator must never reconcile one. */
const refusedNames = new Set<string>();
/** Names of objects the valid properties created; the operator must reconcile them. */
const admittedNames = new Set<string>();

const logs = () =>
  `--- webhooks\n${server?.logs().slice(-3000) ?? ""}\n--- operator\n${operator?.logs().slice(-3000) ?? ""}`;

/** The operator's log lines about this file's namespace, parsed. */
function operatorLines(): Json[] {
  return (operator?.logs() ?? "")
    .split("\n")
    .filter((line) => line.includes(ns))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Json];
      } catch {
        return [];
      }
    })
    .filter((l) => l.namespace === ns);
}

/** The names the operator reconciled in this file's namespace. */
const reconciledNames = () => new Set(operatorLines().map((l) => String(l.name)));
/** The reconciles that failed in this file's namespace. */
const failedReconciles = () => operatorLines().filter((l) => String(l.msg).startsWith("Failed to reconcile"));
/** How many reconciles failed in this file's namespace. */
const namespaceErrors = () => failedReconciles().length;
/** The distinct reasons of the failed reconciles, for the report. */
const errorReasons = () =>
  [
    ...new Set(
      failedReconciles().map(
        (l) => `${l.controllerKind} ${l.name}: ${String(l.err?.message ?? l.msg).slice(0, 200)}`,
      ),
    ),
  ].slice(0, 10);

function install(): void {
  helmOk(
    [
      "install",
      release,
      CHART,
      "--namespace",
      releaseNamespace,
      ...localWebhookValues(port, { "wicked.dev/webhook-test": id }),
      // A cluster-wide policy other test files would meet; config/admission tests it.
      "--set",
      "approvalPolicy.enabled=false",
    ],
    kubeconfig,
  );
}

async function created(plural: string, manifest: Json): Promise<Answer> {
  const answer = await client.create(plural, ns, manifest);
  if (answer.code !== 201)
    throw new Error(
      `creating ${manifest.kind} ${manifest.metadata.name} answered ${answer.code}: ${answer.message}\n${logs()}`,
    );
  return answer;
}

beforeAll(async () => {
  installCrds(kubeconfig);
  database = await createTestDatabase(inject("databaseUrl"));
  ns = createNamespace(kubeconfig, "badhooks");
  kubectlOk(kubeconfig, ["label", "namespace", ns, `wicked.dev/webhook-test=${id}`]);
  kubectlOk(kubeconfig, [
    "create",
    "secret",
    "generic",
    "db",
    "-n",
    ns,
    `--from-literal=url=${database.url}`,
  ]);
  // The operator boots while helm installs and the webhook server starts; it meets the world as it is made.
  const starting = startOperatorProcess(kubeconfig, `badhooks-${id}`, {
    POD_NAMESPACE: ns,
    WICKED_WATCH_NAMESPACES: ns,
    WICKED_LOG_LEVEL: "debug",
  });
  starting.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
  kubectlOk(kubeconfig, ["create", "namespace", releaseNamespace]);
  port = await freePort();
  install();
  const identity = serviceAccountKubeconfig(kubeconfig, releaseNamespace, `${release}-wicked-webhooks`);
  const certificateDir = mkdtempSync(join(tmpdir(), "wicked-badhooks-tls-"));
  writeWebhookCertificate(kubeconfig, release, releaseNamespace, certificateDir);
  server = await startWebhookProcess(identity, certificateDir, port);
  operator = await starting;
  client = admissionClient(kubeconfig);
  // The apiserver picks up new webhook configurations within a moment.
  let probes = 0;
  await eventually(
    "the apiserver calling the webhooks",
    async () => {
      const name = `probe-${probes++}`;
      // Admitted with a warning about the missing client once the webhook is called, then removed again.
      const answer = await client.create("subscriptions", ns, subscriptionManifest(name, "nobody", "x", "y"));
      if (answer.code < 300) await client.delete("subscriptions", ns, name);
      return answer.warnings.some((w) => w.includes("ApiClient nobody does not exist"));
    },
    60_000,
    logs,
  );

  for (const manifest of worldManifests()) await created(`${manifest.kind.toLowerCase()}s`, manifest);
  for (const { plural, manifest } of doomedManifests()) {
    await created(plural, manifest);
    const deleted = await client.delete(plural, ns, manifest.metadata.name);
    expect(deleted.code, deleted.message).toBeLessThan(300);
    expect(
      (await client.get(plural, ns, manifest.metadata.name)).object?.metadata.deletionTimestamp,
    ).toBeTruthy();
  }

  await eventually(
    "the portal's database ready and the world's Subscriptions reconciled",
    async () => {
      const portal = (await client.get("apiportals", ns, "portal")).object;
      const sub = (await client.get("subscriptions", ns, "app-orders")).object;
      return (
        conditionOf(portal, "DatabaseReady")?.status === "True" &&
        conditionOf(sub, "Ready")?.observedGeneration === sub?.metadata.generation
      );
    },
    120_000,
    logs,
  );
}, 300_000);

afterAll(async () => {
  helm(["uninstall", release, "--namespace", releaseNamespace, "--ignore-not-found"], kubeconfig);
  await operator?.stop();
  if (ns) await kubeApi(kubeconfig).deleteNamespace(ns);
  await server?.stop();
  kubectl(kubeconfig, ["delete", "namespace", releaseNamespace, "--wait=false"]);
  await database?.drop();
}, 120_000);

function send(c: AdmissionCase): Promise<Answer> {
  return c.operation === "create"
    ? client.create(c.plural, ns, c.body)
    : client.patch(c.plural, ns, c.name, c.body);
}

/** What is wrong with the answer to an invalid case, or undefined when it was refused as it must be. */
function refusalProblem(c: InvalidCase, answer: Answer): string | undefined {
  if (answer.code < 300) return "it was admitted";
  const message = answer.message ?? "";
  if (answer.code !== 422) return `it answered ${answer.code} ${answer.reason}: ${message}`;
  const denied = `admission webhook "${c.webhook}.wicked.dev" denied the request`;
  if (!message.includes(denied)) return `the refusal is not "${denied}": ${message}`;
  const unsaid = c.refusals.filter((r) => !message.includes(r.says)).map((r) => r.says);
  if (unsaid.length > 0) return `the refusal does not say ${JSON.stringify(unsaid)}: ${message}`;
  const wrong = c.notSays.filter((s) => message.includes(s));
  if (wrong.length > 0) return `the refusal says ${JSON.stringify(wrong)}, which does not apply: ${message}`;
  return undefined;
}

/** Sends an invalid case; throws when it is not refused as it must be or when anything was stored. */
async function refuse(c: InvalidCase): Promise<void> {
  const before = c.operation === "update" ? (await client.get(c.plural, ns, c.name)).object : undefined;
  if (c.operation === "create") refusedNames.add(c.name);
  const answer = await send(c);
  const problem = refusalProblem(c, answer);
  const after = await client.get(c.plural, ns, c.name);
  if (answer.code < 300) {
    // Put the world back, so the next cases meet the world they were computed for.
    if (c.operation === "create") await client.delete(c.plural, ns, c.name);
    else if (before) await client.replaceSpec(c.plural, ns, c.name, before.spec);
  }
  const what = `${c.operation} ${c.plural}/${c.name} ${JSON.stringify(c.body)} breaking ${c.refusals.map((r) => r.rule).join(" + ")}`;
  if (problem) throw new Error(`${what}: ${problem}`);
  if (c.operation === "create" && after.code !== 404)
    throw new Error(`${what}: refused, but GET answered ${after.code}`);
  if (c.operation === "update" && !isDeepStrictEqual(after.object?.spec, before?.spec))
    throw new Error(`${what}: refused, but the spec changed to ${JSON.stringify(after.object?.spec)}`);
}

/** Sends a valid case; throws when it is refused or its warnings are not exactly the promised ones. */
async function admit(c: ValidCase): Promise<Answer> {
  const answer = await send(c);
  const what = `${c.operation} ${c.plural}/${c.name} (${c.flavour}) ${JSON.stringify(c.body)}`;
  if (answer.code >= 300)
    throw new Error(`${what}: refused with ${answer.code}: ${answer.message}\n${logs()}`);
  if (c.operation === "create") admittedNames.add(c.name);
  const joined = answer.warnings.join("\n");
  const unsaid = c.warns.filter((w) => !joined.includes(w));
  const wrong = c.notWarns.filter((w) => joined.includes(w));
  if (unsaid.length > 0 || wrong.length > 0 || answer.warnings.length !== c.warns.length)
    throw new Error(
      `${what}: warned ${JSON.stringify(answer.warnings)}; expected ${JSON.stringify(c.warns)}, none of ${JSON.stringify(c.notWarns)}`,
    );
  return answer;
}

describe("cross-object violations through the real apiserver and webhooks", () => {
  it("are each refused by the right webhook with a message naming every problem, none stored, and the operator never sees them", {
    timeout: 300_000,
  }, async () => {
    const live = operator;
    if (!live) throw new Error("no operator is running");
    const errorsBefore = await reconcileErrors(live);
    const namespaceErrorsBefore = namespaceErrors();
    const properties: Array<[string, fc.Arbitrary<InvalidCase>, number]> = [
      [
        "Subscriptions to switched-off Apis and twins (with any unresolved references besides)",
        invalidSubscriptions(ns, fresh),
        100,
      ],
      ["new Apis with a route another Api has", clashingApis(fresh), 60],
      ["route changes that clash with another Api", clashingRouteChanges("spare"), 24],
      ["Apis withdrawing a Plan in use", withdrawals(), 16],
      ["Apis opened while subscribed", openings(), 8],
      ["second ApiPortals", secondPortals(ns, fresh), 8],
    ];
    const perRule = new Map<string, number>();
    const report: string[] = [];
    let total = 0;
    for (const [property, arbitrary, numRuns] of properties) {
      const rules = new Set<string>();
      let tried = 0;
      await fc.assert(
        fc.asyncProperty(arbitrary, async (c) => {
          tried += 1;
          for (const r of c.refusals) {
            rules.add(r.rule);
            perRule.set(r.rule, (perRule.get(r.rule) ?? 0) + 1);
          }
          await refuse(c);
        }),
        { numRuns, seed: SEED, endOnFailure: true },
      );
      total += tried;
      report.push(`${property}: ${tried} inputs tried, ${rules.size} rules, all refused`);
    }
    // Nothing was stored, so nothing reached the operator; give it a moment to show otherwise.
    await new Promise((r) => setTimeout(r, 3_000));
    const seen = reconciledNames();
    const reached = [...refusedNames].filter((n) => seen.has(n));
    const errorsAfter = await reconcileErrors(live);
    const healthy = await isHealthy(live);
    console.log(
      [
        `Cross-object violations through the webhooks (seed ${SEED}): ${total} inputs tried, ${perRule.size} rules, all refused with the webhook's message, none stored`,
        ...report.map((r) => `  ${r}`),
        "  per rule:",
        ...[...perRule].sort(([a], [b]) => a.localeCompare(b)).map(([rule, n]) => `    ${rule}: ${n}`),
        `  operator: /healthz ${healthy ? 200 : "down"}, reconcile errors ${errorsBefore} -> ${errorsAfter} (all namespaces), ${namespaceErrorsBefore} -> ${namespaceErrors()} (this namespace); refused objects it reconciled: ${reached.length}`,
        ...errorReasons().map((e) => `    reconcile error: ${e}`),
      ].join("\n"),
    );
    // What admission refuses: twins, switched-off Apis, route clashes, withdrawals, openings, second portals.
    expect(perRule.size).toBeGreaterThanOrEqual(7);
    expect(reached).toEqual([]);
    expect(healthy).toBe(true);
    expect(operator).toBe(live);
    expect(namespaceErrors() - namespaceErrorsBefore).toBeLessThanOrEqual(2);
    expect(errorsAfter - errorsBefore).toBeLessThanOrEqual(2);
  });
});

describe("valid cross-object neighbours", () => {
  it("are admitted with exactly the promised warnings and defaults, and the operator reconciles them", {
    timeout: 300_000,
  }, async () => {
    const live = operator;
    if (!live) throw new Error("no operator is running");
    const report: string[] = [];
    const flavours = new Set<string>();
    const subscriptions: string[] = [];

    // Updates that keep the rules: another offered plan; withdrawing a plan only a Rejected Subscription
    // uses (before the Subscriptions below use billing's plan too).
    for (const plan of ["basic", "gold", "basic", "gold"]) {
      const answer = await admit({
        flavour: `moved to plan ${plan}, which the Api offers`,
        plural: "subscriptions",
        operation: "update",
        name: "app-catalog",
        body: { spec: { planRef: { name: plan } } },
        warns: [],
        notWarns: [],
      });
      expect(answer.object?.metadata.labels?.["wicked.dev/plan"]).toBe(plan);
    }
    for (const plans of [["gold"], ["basic"]])
      await admit({
        flavour: `billing offers ${plans.join(", ")} (only a Rejected Subscription used the other)`,
        plural: "apis",
        operation: "update",
        name: "billing",
        body: { spec: { plans } },
        warns: [],
        notWarns: [],
      });
    await admit({
      flavour: "the portal renamed",
      plural: "apiportals",
      operation: "update",
      name: "portal",
      body: { spec: { displayName: "Developer portal (renamed)" } },
      warns: [],
      notWarns: [],
    });
    report.push("updates: 4 plan moves, 2 plan-list changes of billing, 1 portal rename admitted");

    let tried = 0;
    await fc.assert(
      fc.asyncProperty(validSubscriptions(fresh), async (c) => {
        tried += 1;
        flavours.add(c.flavour);
        await created("apiclients", clientManifest(c.client));
        const answer = await admit(c);
        subscriptions.push(c.name);
        expect(answer.object?.metadata.labels, "the labels the defaulting webhook sets").toMatchObject({
          "wicked.dev/client": c.client,
          "wicked.dev/api": c.api,
          "wicked.dev/plan": c.plan,
        });
      }),
      { numRuns: 16, seed: SEED, endOnFailure: true },
    );
    // A Rejected Subscription does not count: app2 may subscribe to billing again.
    await admit({
      flavour: "a second Subscription where the first was Rejected",
      plural: "subscriptions",
      operation: "create",
      name: "ok-app2-billing-again",
      body: subscriptionManifest("ok-app2-billing-again", "app2", "billing", "basic"),
      warns: [],
      notWarns: ["already subscribes"],
    });
    subscriptions.push("ok-app2-billing-again");
    report.push(
      `Subscriptions: ${tried + 1} admitted (${[...flavours].join("; ")}; Rejected twin), labelled`,
    );

    // GitOps order: references that do not resolve yet are admitted with a warning; deleted again at once,
    // so that a later case's twin rule sees the world it expects.
    tried = 0;
    await fc.assert(
      fc.asyncProperty(unresolvedSubscriptions(ns, fresh), async (c) => {
        tried += 1;
        await admit(c);
        const deleted = await client.delete(c.plural, ns, c.name);
        expect(deleted.code, deleted.message).toBeLessThan(300);
      }),
      { numRuns: 24, seed: SEED, endOnFailure: true },
    );
    report.push(`Subscriptions with unresolved references: ${tried} admitted with their warnings`);

    tried = 0;
    flavours.clear();
    await fc.assert(
      fc.asyncProperty(validApis(ns, fresh), async (c) => {
        tried += 1;
        flavours.add(c.flavour);
        await admit(c);
        // Delete it, so the next generated Api never clashes with this one.
        const deleted = await client.delete(c.plural, ns, c.name);
        expect(deleted.code, deleted.message).toBeLessThan(300);
      }),
      { numRuns: 24, seed: SEED, endOnFailure: true },
    );
    report.push(`Apis: ${tried} admitted (${flavours.size} flavours: ${[...flavours].join("; ")})`);

    tried = 0;
    flavours.clear();
    const upcoming = [...UPCOMING_PLANS];
    await fc.assert(
      fc.asyncProperty(planFlavours, async ({ limits, offered }) => {
        tried += 1;
        const name = (offered && upcoming.shift()) || fresh("ok-");
        const c = validPlan(name, limits, UPCOMING_PLANS.includes(name));
        flavours.add(c.flavour);
        await admit(c);
      }),
      { numRuns: 10, seed: SEED, endOnFailure: true },
    );
    report.push(`Plans: ${tried} admitted (${[...flavours].join("; ")})`);

    // The operator reconciles what was admitted: every new Subscription gets a Ready condition.
    await eventually(
      "every admitted Subscription reconciled",
      async () => {
        for (const name of subscriptions) {
          const sub = (await client.get("subscriptions", ns, name)).object;
          if (conditionOf(sub, "Ready")?.observedGeneration !== sub?.metadata.generation) return false;
        }
        return true;
      },
      120_000,
      logs,
    );
    const seen = reconciledNames();
    const healthy = await isHealthy(live);
    console.log(
      [
        `Valid cross-object neighbours (seed ${SEED}): all admitted with exactly the promised warnings`,
        ...report.map((r) => `  ${r}`),
        `  operator: /healthz ${healthy ? 200 : "down"}, reconciled ${[...admittedNames].filter((n) => seen.has(n)).length}/${admittedNames.size} admitted objects, ${namespaceErrors()} reconcile errors in this namespace; the doomed ${DOOMED.api} is still held: ${Boolean((await client.get("apis", ns, DOOMED.api)).object)}`,
        ...errorReasons().map((e) => `    reconcile error: ${e}`),
      ].join("\n"),
    );
    expect(healthy).toBe(true);
    expect(operator).toBe(live);
    expect(subscriptions.filter((n) => !seen.has(n))).toEqual([]);
    expect([...refusedNames].filter((n) => seen.has(n))).toEqual([]);
  });
});
