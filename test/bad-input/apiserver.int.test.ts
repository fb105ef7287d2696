/**
 * Bad input through the real apiserver, with the operator running: generated invalid resources are each
 * refused with 422 Invalid and a field message, so the operator never sees them; generated valid but nasty
 * resources are stored verbatim and settled by the operator (ResolvedRefs=False for missing references)
 * without a crash or a reconcile-error storm — including Subscription names longer than a label value, which
 * the operator shortens with a hash in its children's labels. Names too long for the children's names are
 * refused by the CRD.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ApiError } from "../../controller-runtime/errors.ts";
import { wickedPath } from "../resilience/kube-api.ts";
import {
  API,
  CLIENT,
  createWorld,
  isHealthy,
  PLAN,
  reconcileErrors,
  type World,
} from "../resilience/portal-world.ts";
import { conditionOf, type Json } from "../support/cluster.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { type InvalidCase, invalidNames, invalidOfKind, VALID, wrongTypes } from "./invalid-resources.ts";
import {
  LABEL_VALUE_MAX,
  longSubscriptionNames,
  type NastyCase,
  nastyResources,
  PORTAL_NAME_MAX,
  SUBSCRIPTION_NAME_MAX,
} from "./nasty-resources.ts";

const SEED = Number(process.env.WICKED_FUZZ_SEED ?? 4242);
/** A Plan that exists but that the world's Api does not offer. */
const OTHER_PLAN = "gold";

let database: TestDatabase;
let world: World;
let serial = 0;
const nextName = () => `bad-${(serial++).toString(36)}`;

beforeAll(async () => {
  database = await createTestDatabase(inject("databaseUrl"));
  world = await createWorld({
    kubeconfig: inject("kubeconfig"),
    databaseUrl: database.url,
    prefix: "badinput",
  });
  await world.kube.createWicked("plans", world.namespace, {
    apiVersion: "wicked.dev/v1alpha1",
    kind: "Plan",
    metadata: { name: OTHER_PLAN },
    spec: { displayName: "Gold", rateLimits: { second: 10 } },
  });
});

afterAll(async () => {
  await world?.stop();
  await database?.drop();
});

/** The apiserver's answer to creating a manifest: the HTTP status and, for a refusal, its Status. */
async function create(
  plural: string,
  manifest: Json,
): Promise<{ code: number; reason?: string; status?: Json }> {
  try {
    await world.kube.rest.request({
      method: "POST",
      path: wickedPath(plural, world.namespace),
      body: manifest,
    });
    return { code: 201 };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { code: err.code, reason: err.reason, status: err.status as Json | undefined };
  }
}

/** What a refusal must look like: 422 Invalid, a message, and causes naming a field with a message each. */
function refusalProblem(answer: { code: number; reason?: string; status?: Json }): string | undefined {
  if (answer.code !== 422) return `answered ${answer.code} ${answer.reason ?? ""}, not 422 Invalid`;
  if (answer.reason !== "Invalid") return `422 with reason ${answer.reason}, not Invalid`;
  const causes = (answer.status?.details?.causes ?? []) as Array<{ field?: string; message?: string }>;
  if (!answer.status?.message) return "the refusal has no message";
  if (causes.length === 0) return `the refusal names no cause: ${answer.status.message}`;
  if (causes.some((c) => !c.message?.trim())) return `a cause has no message: ${JSON.stringify(causes)}`;
  if (!causes.some((c) => c.field?.trim())) return `no cause names a field: ${JSON.stringify(causes)}`;
  return undefined;
}

describe("invalid resources", () => {
  it("are each refused with 422 Invalid and a field message, never stored, and the operator carries on", {
    timeout: 300_000,
  }, async () => {
    const operator = world.operator;
    if (!operator) throw new Error("no operator is running");
    const errorsBefore = await reconcileErrors(operator);
    const properties: Array<[string, fc.Arbitrary<InvalidCase>, number]> = [
      ...Object.keys(VALID).map(
        (kind) =>
          [`invalid ${kind}`, invalidOfKind(kind, nextName), kind === "Api" ? 150 : 60] as [
            string,
            fc.Arbitrary<InvalidCase>,
            number,
          ],
      ),
      ["wrong JSON types", wrongTypes(nextName), 60],
      ["invalid object names", invalidNames(), 40],
    ];
    const report: string[] = [];
    const attempted = new Map<string, Set<string>>();
    let total = 0;
    for (const [property, arbitrary, numRuns] of properties) {
      const rules = new Set<string>();
      let tried = 0;
      await fc.assert(
        fc.asyncProperty(arbitrary, async (c) => {
          tried += 1;
          rules.add(c.rule);
          const names = attempted.get(c.plural) ?? new Set<string>();
          names.add(String(c.manifest.metadata.name));
          attempted.set(c.plural, names);
          const answer = await create(c.plural, c.manifest);
          if (answer.code === 201)
            await world.kube.deletePath(
              `${wickedPath(c.plural, world.namespace)}/${c.manifest.metadata.name}`,
            );
          const problem = refusalProblem(answer);
          if (problem) throw new Error(`${c.kind} breaking "${c.rule}": ${problem}`);
        }),
        { numRuns, seed: SEED },
      );
      total += tried;
      report.push(
        `${property}: ${tried} inputs tried, ${rules.size} distinct rules broken, all refused with 422 Invalid`,
      );
    }

    for (const [plural, names] of attempted) {
      const stored = (await world.kube.listWicked(plural, world.namespace)).filter((o) =>
        names.has(String(o.metadata.name)),
      );
      expect(
        stored.map((o) => o.metadata.name),
        `stored ${plural}`,
      ).toEqual([]);
    }
    // Nothing was stored, so nothing new reached the operator; give it a moment to show otherwise.
    await new Promise((r) => setTimeout(r, 3_000));
    const errorsAfter = await reconcileErrors(operator);
    console.log(
      [
        `Invalid resources through the apiserver (seed ${SEED}): ${total} inputs`,
        ...report.map((r) => `  ${r}`),
        `  operator: /healthz ${(await isHealthy(operator)) ? 200 : "down"}, reconcile errors ${errorsBefore} -> ${errorsAfter}`,
      ].join("\n"),
    );
    expect(await isHealthy(operator)).toBe(true);
    expect(world.operator).toBe(operator);
    expect(errorsAfter - errorsBefore).toBeLessThanOrEqual(2);
  });
});

/** Settles a nasty case must reach: a Ready condition for its generation, and the expected ResolvedRefs. */
type Verdict = { settled: boolean; why: string; ready?: string };

async function verdict(c: NastyCase): Promise<Verdict> {
  const obj = await world.kube.getWicked(c.plural, world.namespace, c.manifest.metadata.name);
  const ready = conditionOf(obj, "Ready");
  const refs = conditionOf(obj, "ResolvedRefs");
  const name = `${c.kind} ${String(c.manifest.metadata.name).slice(0, 40)}… (${c.flavour})`;
  if (!ready) return { settled: false, why: `${name} has no Ready condition` };
  if (ready.observedGeneration !== obj?.metadata.generation)
    return { settled: false, why: `${name}: Ready is for generation ${ready.observedGeneration}` };
  if (c.resolvedRefs && refs?.status !== c.resolvedRefs)
    return {
      settled: false,
      why: `${name}: ResolvedRefs is ${refs?.status} (${refs?.message}), not ${c.resolvedRefs}`,
    };
  if (c.resolvedRefs === "False" && !refs?.message)
    return { settled: false, why: `${name}: ResolvedRefs=False says nothing` };
  return { settled: true, why: "", ready: ready.status };
}

/** Creates each case (it must be accepted and stored verbatim) and remembers it. */
function createsVerbatim(created: NastyCase[]) {
  return async (c: NastyCase) => {
    const answer = await create(c.plural, c.manifest);
    if (answer.code !== 201)
      throw new Error(`${c.flavour}: refused with ${answer.code}: ${JSON.stringify(answer.status?.message)}`);
    created.push(c);
    const stored = await world.kube.getWicked(c.plural, world.namespace, c.manifest.metadata.name);
    expect(stored?.spec).toMatchObject(c.manifest.spec);
  };
}

/** Waits until every case settled (or the time is up) and returns the verdicts. */
async function settle(created: NastyCase[], timeoutMs: number): Promise<Verdict[]> {
  let verdicts: Verdict[] = [];
  await world
    .eventually(
      "every nasty resource settled",
      async () => {
        verdicts = await Promise.all(created.map(verdict));
        return verdicts.every((v) => v.settled);
      },
      timeoutMs,
    )
    .catch(() => undefined);
  return verdicts;
}

describe("valid but nasty resources", () => {
  const refs = { plan: PLAN, otherPlan: OTHER_PLAN, api: API, client: CLIENT };

  it("are stored verbatim and settled by the operator, with ResolvedRefs=False for missing references", {
    timeout: 400_000,
  }, async () => {
    const operator = world.operator;
    if (!operator) throw new Error("no operator is running");
    const used = new Set<string>();
    /** A unique legal name no longer than the candidate (or 12 characters). */
    const unique = (candidate: string) => {
      let name = candidate;
      for (let n = 1; used.has(name); n++) {
        const suffix = `-${n}`;
        const base = candidate.slice(0, Math.max(candidate.length, 12) - suffix.length).replace(/[-.]+$/, "");
        name = `${base || "n"}${suffix}`;
      }
      used.add(name);
      return name;
    };
    const created: NastyCase[] = [];
    const tried: string[] = [];
    for (const [property, arbitrary] of Object.entries(nastyResources(refs, unique))) {
      const before = created.length;
      await fc.assert(fc.asyncProperty(arbitrary, createsVerbatim(created)), { numRuns: 6, seed: SEED });
      tried.push(`${property}: ${created.length - before} (${created[before]?.flavour})`);
    }
    const verdicts = await settle(created, 180_000);
    const unsettled = verdicts.filter((v) => !v.settled).map((v) => v.why);
    const errorsSettled = await reconcileErrors(operator);
    await new Promise((r) => setTimeout(r, 15_000));
    const errorsLater = await reconcileErrors(operator);
    console.log(
      [
        `Valid but nasty resources (seed ${SEED}): ${created.length} inputs, all stored verbatim`,
        ...tried.map((t) => `  ${t}`),
        `  settled: ${verdicts.filter((v) => v.settled).length}/${created.length} (Ready=True: ${verdicts.filter((v) => v.ready === "True").length})`,
        `  reconcile errors in the 15 s after settling: ${errorsLater - errorsSettled} (total ${errorsLater}); /healthz ${(await isHealthy(operator)) ? 200 : "down"}`,
      ].join("\n"),
    );
    expect(unsettled, unsettled.join("\n")).toEqual([]);
    expect(await isHealthy(operator)).toBe(true);
    expect(world.operator).toBe(operator);
    expect(errorsLater - errorsSettled).toBeLessThanOrEqual(3);
  });

  it(`settles Subscriptions whose names are longer than a label value (${LABEL_VALUE_MAX}), and refuses names too long for their children`, {
    timeout: 300_000,
  }, async () => {
    const operator = world.operator;
    if (!operator) throw new Error("no operator is running");
    const created: NastyCase[] = [];
    await fc.assert(fc.asyncProperty(longSubscriptionNames(refs), createsVerbatim(created)), {
      numRuns: 3,
      seed: SEED,
    });
    const tooLong = [
      await create("subscriptions", {
        apiVersion: "wicked.dev/v1alpha1",
        kind: "Subscription",
        metadata: { name: "s".repeat(SUBSCRIPTION_NAME_MAX + 1) },
        spec: { clientRef: { name: CLIENT }, apiRef: { name: API }, planRef: { name: PLAN } },
      }),
      await create("apiportals", {
        apiVersion: "wicked.dev/v1alpha1",
        kind: "ApiPortal",
        metadata: { name: "p".repeat(PORTAL_NAME_MAX + 1) },
        spec: (VALID.ApiPortal as { spec: () => Json }).spec(),
      }),
    ];
    expect(tooLong.map(refusalProblem)).toEqual([undefined, undefined]);
    expect(tooLong.map((a) => a.status?.message)).toEqual([
      expect.stringContaining("the credentials Secret is named <name>-credentials"),
      expect.stringContaining("the portal's Services are named <name>-auth-server"),
    ]);
    const verdicts = await settle(created, 90_000);
    const unsettled = verdicts.filter((v) => !v.settled).map((v) => v.why);
    console.log(
      `Names longer than ${LABEL_VALUE_MAX} characters: ${created.length} Subscriptions (settled ${verdicts.filter((v) => v.settled).length}); refused: a Subscription of ${SUBSCRIPTION_NAME_MAX + 1} and an ApiPortal of ${PORTAL_NAME_MAX + 1} characters; reconcile errors so far ${await reconcileErrors(operator)}`,
    );
    expect(unsettled, unsettled.join("\n")).toEqual([]);
    expect(await isHealthy(operator)).toBe(true);
  });
});
