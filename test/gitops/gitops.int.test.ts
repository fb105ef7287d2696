/**
 * GitOps-grade (what Argo CD, Flux and `kubectl apply -f` do to a repository of wicked resources):
 * rendering the chart offline works, re-applying unchanged manifests changes nothing, and any apply order
 * converges to the same state with the chart's webhooks active.
 *
 * The samples are applied as a platform team's repository would hold them for this cluster: the database
 * Secret points at a test database, the gateway at a Kong test double, and the Secrets and the Service the
 * samples name are part of the repository. The control plane has no kubelet, so this test plays the
 * deployment controller: it marks the portal's Deployments available once they exist.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  CHART,
  helmOk,
  localWebhookValues,
  serviceAccountKubeconfig,
  startWebhookProcess,
  type WebhookProcess,
  writeWebhookCertificate,
} from "../../charts/wicked/testing.ts";
import { binaries, freePort } from "../../hack/controlplane/controlplane.ts";
import { deploymentStatus } from "../../hack/dev/deployment-status.ts";
import { readSamples } from "../../hack/dev/samples.ts";
import { nastyResources } from "../bad-input/nasty-resources.ts";
import { type KongDouble, startKongDouble } from "../kong/kong-double.ts";
import { type ChatSink, startChatSink } from "../support/chat-sink.ts";
import { eventually, type Json } from "../support/cluster.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { createNamespace, installCrds, kubectl, kubectlOk } from "../support/kubectl.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator-process.ts";
import { type SmtpSink, startSmtpSink } from "../support/smtp-sink.ts";

const kubeconfig = inject("kubeconfig");
const id = Math.random().toString(36).slice(2, 8);
const release = `gitops-${id}`;
const releaseNamespace = `wicked-gitops-${id}`;
const webhookLabel = { "wicked.dev/gitops-test": id };
const WICKED_KINDS = ["ApiPortal", "Api", "Plan", "ApiClient", "Subscription"];

let server: WebhookProcess | undefined;
let operator: OperatorProcess | undefined;
const databases: TestDatabase[] = [];
const kongs: KongDouble[] = [];
let smtp: SmtpSink | undefined;
let chat: ChatSink | undefined;
const namespaces: string[] = [];
const logs = () => `${server?.logs().slice(-2000) ?? ""}\n${operator?.logs().slice(-6000) ?? ""}`;

function namespaceWith(prefix: string, labels: Record<string, string> = {}): string {
  const name = createNamespace(kubeconfig, prefix);
  if (Object.keys(labels).length > 0)
    kubectlOk(kubeconfig, [
      "label",
      "namespace",
      name,
      ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
    ]);
  namespaces.push(name);
  return name;
}

const applyDocs = (namespace: string, docs: Json[], extra: string[] = []) =>
  kubectlOk(
    kubeconfig,
    ["apply", "-n", namespace, ...extra, "-f", "-"],
    // JSON, not YAML: kubectl reads YAML 1.1, where an odd name such as `y` would become a boolean.
    docs.map((d) => JSON.stringify(d)).join("\n---\n"),
  );

const resourceVersions = (namespace: string, kinds: string[]) =>
  JSON.parse(kubectlOk(kubeconfig, ["get", kinds.join(","), "-n", namespace, "-o", "json"])).items.map(
    (o: Json) => `${o.kind}/${o.metadata.name}@${o.metadata.resourceVersion}`,
  ) as string[];

describe("offline rendering", () => {
  it("helm template t charts/wicked | kubectl apply --dry-run=server -f - works with no extra flag", () => {
    const bin = binaries();
    const rendered = execFileSync(join(bin, "helm"), ["template", "t", CHART], {
      encoding: "utf8",
      maxBuffer: 16 * 1024 * 1024,
    });
    const applied = kubectlOk(kubeconfig, ["apply", "--dry-run=server", "-f", "-"], rendered);
    expect(applied).toContain("deployment.apps/t-wicked-operator created (server dry run)");
  });
});

describe("re-applying unchanged manifests", () => {
  beforeAll(() => installCrds(kubeconfig), 120_000);

  it("is a no-op for every sample and for nasty-but-valid resources: client-side apply says unchanged, server-side apply keeps every resourceVersion", () => {
    const nasty = Object.values(
      nastyResources(
        { plan: "basic", otherPlan: "partner", api: "orders", client: "checkout-app" },
        (candidate) =>
          `${candidate.slice(0, 40).replace(/[^a-z0-9]+$/, "")}-${Math.random().toString(36).slice(2, 6)}`,
      ),
    ).flatMap((arbitrary) => fc.sample(arbitrary, { numRuns: 4, seed: 18 }).map((c) => c.manifest));
    const cases: Array<[string, Json[]]> = [
      ["the samples", readSamples() as Json[]],
      ["nasty-but-valid resources", nasty],
    ];
    for (const [what, docs] of cases) {
      const csa = namespaceWith("reapply");
      applyDocs(csa, docs);
      const again = applyDocs(csa, docs).trim().split("\n");
      expect(again.length, what).toBe(docs.length);
      expect(
        again.filter((line) => !line.endsWith(" unchanged")),
        `${what}: a second kubectl apply changed nothing`,
      ).toEqual([]);

      const ssa = namespaceWith("reapply-ssa");
      const kinds = [...new Set(docs.map((d) => d.kind as string))];
      applyDocs(ssa, docs, ["--server-side"]);
      const before = resourceVersions(ssa, kinds);
      applyDocs(ssa, docs, ["--server-side"]);
      expect(resourceVersions(ssa, kinds), `${what}: a second server-side apply wrote nothing`).toEqual(
        before,
      );
    }
  }, 300_000);
});

/** Where the repository's portal points: this test's database, gateway, mail server and chat webhook. */
interface Endpoints {
  databaseUrl: string;
  kongAdminUrl: string;
  smtpUrl: string;
  chatUrl: string;
}

/** The repository of one cluster: the samples, pointed at this test's endpoints, plus what they name. */
function repository({ databaseUrl, kongAdminUrl, smtpUrl, chatUrl }: Endpoints): Json[] {
  const docs = (readSamples() as Json[]).map((d) => {
    if (d.kind === "Secret" && d.metadata.name === "portal-database")
      return { ...d, stringData: { url: databaseUrl } };
    if (d.kind === "ApiPortal")
      return { ...d, spec: { ...d.spec, gateway: { mode: "External", adminUrl: kongAdminUrl } } };
    return d;
  });
  const secret = (name: string, data: Record<string, string>) => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name },
    stringData: data,
  });
  return [
    ...docs,
    secret("corporate-sso", { "client-secret": "not-a-real-secret" }),
    secret("portal-smtp", { url: smtpUrl }),
    secret("slack-webhook", { url: chatUrl }),
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "orders" },
      spec: { ports: [{ port: 8080, targetPort: 8080 }], selector: { app: "orders" } },
    },
  ];
}

/** A deterministic shuffle (mulberry32), so an order that fails can be replayed from its seed. */
function shuffle<T>(items: T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** The orders a GitOps tool could apply a repository in; `perObject` applies one object per kubectl call. */
function orders(docs: Json[]): Array<{ name: string; docs: Json[]; perObject: boolean }> {
  const dependentsFirst = ["Subscription", "ApiClient", "Api", "Plan", "ApiPortal"];
  const rank = (d: Json) => {
    const i = dependentsFirst.indexOf(d.kind);
    return i === -1 ? dependentsFirst.length : i;
  };
  return [
    { name: "file order", docs, perObject: false },
    { name: "reverse file order", docs: [...docs].reverse(), perObject: false },
    {
      name: "Subscriptions first",
      docs: [...docs].sort((a, b) => rank(a) - rank(b)),
      perObject: false,
    },
    ...Array.from({ length: 10 }, (_, seed) => ({
      name: `one object per apply, shuffled with seed ${seed}`,
      docs: shuffle(docs, seed + 1),
      perObject: true,
    })),
  ];
}

/** Plays the deployment controller of a cluster without kubelets: every Deployment's replicas are available. */
function markDeploymentsAvailable(namespace: string): void {
  const deployments = JSON.parse(kubectlOk(kubeconfig, ["get", "deployments", "-n", namespace, "-o", "json"]))
    .items as Json[];
  for (const d of deployments) {
    const replicas = d.spec.replicas ?? 1;
    if (d.status?.observedGeneration === d.metadata.generation && d.status?.availableReplicas === replicas)
      continue;
    const status = deploymentStatus(d.metadata.generation, replicas, replicas);
    kubectl(kubeconfig, [
      "patch",
      "deployment",
      d.metadata.name,
      "-n",
      namespace,
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify({ status }),
    ]);
  }
}

/** Every wicked object of the namespace: its conditions (type=status) and phase, sorted. */
function finalState(namespace: string): string[] {
  const items = JSON.parse(kubectlOk(kubeconfig, ["get", "wicked", "-n", namespace, "-o", "json"]))
    .items as Json[];
  return items
    .map(
      (o) =>
        `${o.kind}/${o.metadata.name}: ${((o.status?.conditions ?? []) as Json[])
          .map((c) => `${c.type}=${c.status}`)
          .sort()
          .join(" ")}${o.status?.phase ? ` phase=${o.status.phase}` : ""}`,
    )
    .sort();
}

const notReady = (namespace: string): string[] =>
  (JSON.parse(kubectlOk(kubeconfig, ["get", "wicked", "-n", namespace, "-o", "json"])).items as Json[])
    .filter((o) => {
      const ready = ((o.status?.conditions ?? []) as Json[]).find((c) => c.type === "Ready");
      return ready?.status !== "True" || o.status?.observedGeneration !== o.metadata.generation;
    })
    .map((o) => `${o.kind}/${o.metadata.name}`);

describe("any apply order", () => {
  beforeAll(async () => {
    installCrds(kubeconfig);
    kubectlOk(kubeconfig, ["create", "namespace", releaseNamespace]);
    const port = await freePort();
    const certDir = mkdtempSync(join(tmpdir(), "wicked-gitops-tls-"));
    helmOk(
      ["install", release, CHART, "--namespace", releaseNamespace, ...localWebhookValues(port, webhookLabel)],
      kubeconfig,
    );
    writeWebhookCertificate(kubeconfig, release, releaseNamespace, certDir);
    const identity = serviceAccountKubeconfig(kubeconfig, releaseNamespace, `${release}-wicked-webhooks`);
    server = await startWebhookProcess(identity, certDir, port);
    smtp = await startSmtpSink();
    chat = await startChatSink();
    operator = await startOperatorProcess(kubeconfig, `gitops-${id}`, {
      POD_NAMESPACE: releaseNamespace,
      WICKED_GATEWAY_RESYNC_SECONDS: "5",
    });
  }, 240_000);

  afterAll(async () => {
    // The resources go while the operator runs, so their finalizers are honoured.
    for (const namespace of namespaces)
      kubectl(kubeconfig, ["delete", "wicked", "--all", "-n", namespace, "--wait=false"]);
    for (const namespace of namespaces)
      await eventually(
        `the wicked resources of ${namespace} are deleted`,
        () => kubectlOk(kubeconfig, ["get", "wicked", "-n", namespace, "-o", "name"]).trim() === "",
        120_000,
      ).catch(() => undefined);
    await operator?.stop();
    await server?.stop();
    helmOk(["uninstall", release, "--namespace", releaseNamespace], kubeconfig);
    for (const namespace of [...namespaces, releaseNamespace])
      kubectl(kubeconfig, ["delete", "namespace", namespace, "--wait=false"]);
    for (const kong of kongs) await kong.stop();
    await smtp?.stop();
    await chat?.stop();
    for (const db of databases) await db.drop();
  }, 300_000);

  it("converges to every sample Ready, in the same state, whatever order the objects arrive in, with the webhooks active", async () => {
    const states: Array<{ order: string; state: string[]; seconds: number }> = [];
    const placeholder = "http://placeholder";
    const shape = repository({
      databaseUrl: placeholder,
      kongAdminUrl: placeholder,
      smtpUrl: placeholder,
      chatUrl: placeholder,
    });
    const wickedObjects = shape.filter((d) => WICKED_KINDS.includes(d.kind)).length;
    for (const order of orders(shape)) {
      const db = await createTestDatabase(inject("databaseUrl"));
      databases.push(db);
      const kong = await startKongDouble();
      kongs.push(kong);
      const namespace = namespaceWith("gitops", webhookLabel);
      const byName = new Map(
        repository({
          databaseUrl: db.url,
          kongAdminUrl: kong.adminUrl,
          smtpUrl: smtp?.url ?? "",
          chatUrl: chat?.url("/slack") ?? "",
        }).map((d) => [`${d.kind}/${d.metadata.name}`, d]),
      );
      const docs = order.docs.map((d) => byName.get(`${d.kind}/${d.metadata.name}`) as Json);
      const t0 = Date.now();
      if (order.perObject) for (const d of docs) applyDocs(namespace, [d]);
      else applyDocs(namespace, docs);
      await eventually(
        `every sample Ready (${order.name})`,
        () => {
          markDeploymentsAvailable(namespace);
          const waiting = notReady(namespace);
          const present = kubectlOk(kubeconfig, ["get", "wicked", "-n", namespace, "-o", "name"]).trim();
          return waiting.length === 0 && present.split("\n").length === wickedObjects;
        },
        240_000,
        () => `${notReady(namespace).join(", ")}\n${finalState(namespace).join("\n")}\n${logs()}`,
      );
      states.push({ order: order.name, state: finalState(namespace), seconds: (Date.now() - t0) / 1000 });
    }
    console.log(
      [
        "Apply orders (with the webhooks active) -> every sample Ready:",
        ...states.map((s) => `  ${s.order}: ${s.seconds.toFixed(1)} s`),
        "Final state:",
        ...(states[0]?.state ?? []).map((l) => `  ${l}`),
      ].join("\n"),
    );
    for (const s of states) expect(s.state, s.order).toEqual(states[0]?.state);
  }, 1_800_000);
});
