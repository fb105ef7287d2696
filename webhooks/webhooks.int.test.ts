/**
 * The webhooks as the real apiserver calls them: the chart installs the webhook configurations (pointed at
 * a server on this host with `webhooks.url`) and the certificate it generates; `wicked webhooks` serves that
 * certificate as its own process, authenticated as the chart's webhook ServiceAccount.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
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
} from "../charts/wicked/testing.ts";
import { KubeClient, RestMapper } from "../controller-runtime/client.ts";
import { kubeconfigAccess } from "../controller-runtime/kubeconfig.ts";
import { RestClient } from "../controller-runtime/rest.ts";
import type { KubeObject } from "../controller-runtime/types.ts";
import { freePort } from "../hack/controlplane/controlplane.ts";
import { SUBSCRIPTION } from "../operator/gvks.ts";
import { eventually, getObject, type Json } from "../test/support/cluster.ts";
import {
  createNamespace,
  installCrds,
  type KubectlResult,
  kubectl,
  kubectlOk,
} from "../test/support/kubectl.ts";

const kubeconfig = inject("kubeconfig");
const id = Math.random().toString(36).slice(2, 8);
const release = `hooks-${id}`;
const releaseNamespace = `wicked-hooks-${id}`;
/** Only namespaces with this label get the release's webhooks, so other tests never meet them. */
const testLabel = `wicked.dev/webhook-test=${id}`;
let port: number;
let certDir: string;
let server: WebhookProcess | undefined;
let ns: string;
const namespaces: string[] = [];

const logs = () => server?.logs().slice(-3000) ?? "";
const wicked = (kind: string, name: string, spec: Json, labels?: Record<string, string>): Json => ({
  apiVersion: "wicked.dev/v1alpha1",
  kind,
  metadata: { name, ...(labels ? { labels } : {}) },
  spec,
});
const plan = (name: string, spec: Json = { rateLimits: { minute: 60 } }) =>
  wicked("Plan", name, { displayName: name, ...spec });
const api = (name: string, routes: Json[], plans: string[], extra: Json = {}) =>
  wicked("Api", name, {
    displayName: name,
    upstream: { url: "http://backend.example.com" },
    routes,
    ...(plans.length > 0 ? { plans } : {}),
    ...extra,
  });
const subscription = (name: string, client: string, apiName: string, planName: string) =>
  wicked("Subscription", name, {
    clientRef: { name: client },
    apiRef: { name: apiName },
    planRef: { name: planName },
  });
const portal = (name: string) =>
  wicked("ApiPortal", name, {
    displayName: name,
    urls: { portal: "https://developer.example.com", gateway: "https://api.example.com" },
    database: { urlSecretRef: { name: "db", key: "url" } },
    gateway: { mode: "None" },
  });

const create = (manifest: Json, namespace = ns): KubectlResult =>
  kubectl(kubeconfig, ["create", "-n", namespace, "-f", "-"], JSON.stringify(manifest));
const patch = (kind: string, name: string, body: Json, as = kubeconfig): KubectlResult =>
  kubectl(as, ["patch", kind, name, "-n", ns, "--type=merge", "-p", JSON.stringify(body)]);
const get = (kind: string, name: string) => getObject(kubeconfig, kind, name, ns);
/**
 * Deletes a Subscription and releases it as the operator would (no operator runs in this suite): the
 * defaulting webhook gave it the operator's finalizer at creation.
 */
function deleteSubscription(name: string): void {
  ok(kubectl(kubeconfig, ["delete", "subscription", name, "-n", ns, "--wait=false"]));
  ok(patch("subscription", name, { metadata: { finalizers: null } }));
}

function ok(r: KubectlResult): KubectlResult {
  expect(r.code, `${r.stderr}\n${logs()}`).toBe(0);
  return r;
}

/** The request failed because `webhook` refused it, saying `message`. */
function refused(r: KubectlResult, webhook: string, message: string): void {
  expect(r.code, r.stdout).not.toBe(0);
  expect(r.stderr).toContain(`admission webhook "${webhook}.wicked.dev" denied the request`);
  expect(r.stderr).toContain(message);
}

function labelledNamespace(prefix: string): string {
  const name = createNamespace(kubeconfig, prefix);
  kubectlOk(kubeconfig, ["label", "namespace", name, testLabel]);
  namespaces.push(name);
  return name;
}

function install(action: "install" | "upgrade", extra: string[] = []): void {
  helmOk(
    [
      action,
      release,
      CHART,
      "--namespace",
      releaseNamespace,
      ...localWebhookValues(port, { "wicked.dev/webhook-test": id }),
      ...extra,
    ],
    kubeconfig,
  );
}

/** The operator runtime's client, authenticated by `file`. */
function clientOf(file: string): KubeClient {
  const rest = new RestClient(kubeconfigAccess(file));
  return new KubeClient(rest, new RestMapper(rest));
}

async function startServer(): Promise<void> {
  const identity = serviceAccountKubeconfig(kubeconfig, releaseNamespace, `${release}-wicked-webhooks`);
  server = await startWebhookProcess(identity, certDir, port);
}

/** The certificate the server presents right now, as PEM. */
function servedCertificate(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      resolve(
        `-----BEGIN CERTIFICATE-----\n${raw
          .toString("base64")
          .replace(/(.{64})/g, "$1\n")
          .replace(/\n$/, "")}\n-----END CERTIFICATE-----\n`,
      );
    });
    socket.on("error", reject);
  });
}

beforeAll(async () => {
  installCrds(kubeconfig);
  kubectlOk(kubeconfig, ["create", "namespace", releaseNamespace]);
  port = await freePort();
  certDir = mkdtempSync(join(tmpdir(), "wicked-webhook-tls-"));
  install("install");
  writeWebhookCertificate(kubeconfig, release, releaseNamespace, certDir);
  await startServer();
  ns = labelledNamespace("hooks");
  // The apiserver picks up new webhook configurations within a moment.
  await eventually(
    "the apiserver calling the webhooks",
    () =>
      kubectl(
        kubeconfig,
        ["create", "--dry-run=server", "-n", ns, "-f", "-"],
        JSON.stringify(subscription("probe", "nobody", "nothing", "none")),
      ).stderr.includes("Warning: ApiClient nobody does not exist"),
    60_000,
    logs,
  );

  ok(create(plan("basic")));
  ok(create(plan("gold", { rateLimits: { minute: 600 } })));
  ok(create(plan("partner", { requiresApproval: true, rateLimits: { minute: 100 } })));
  ok(create(wicked("ApiClient", "app", { displayName: "App", owner: "dev@example.com" })));
  ok(create(wicked("ApiClient", "app2", { displayName: "App 2", owner: "dev@example.com" })));
  ok(create(portal("developer-portal")));
  ok(create(api("orders", [{ paths: ["/orders"] }], ["basic", "partner"])));
  ok(
    create(
      api(
        "billing",
        [{ paths: ["/billing"], hosts: ["api.example.com"], methods: ["GET", "POST"] }],
        ["basic"],
      ),
    ),
  );
  ok(create(api("status-page", [{ paths: ["/status"] }], [], { auth: { type: "none" } })));
  ok(
    create(
      api("legacy", [{ paths: ["/legacy"] }], ["basic"], {
        deprecation: { since: "2019-01-01T00:00:00Z", sunset: "2020-01-01T00:00:00Z", message: "use orders" },
      }),
    ),
  );
  ok(
    create(
      api("classic", [{ paths: ["/classic"] }], ["basic"], {
        deprecation: { since: "2025-01-01T00:00:00Z", sunset: "2099-01-01T00:00:00Z" },
      }),
    ),
  );
  ok(create(subscription("app-orders", "app", "orders", "basic")));
  ok(create(subscription("app2-billing", "app2", "billing", "basic")));
}, 240_000);

afterAll(async () => {
  // No operator runs here to release the Subscriptions' finalizers: release them, so the namespaces can go.
  for (const n of namespaces) {
    const names = kubectl(kubeconfig, [
      "get",
      "subscriptions",
      "-n",
      n,
      "-o",
      "jsonpath={.items[*].metadata.name}",
    ]);
    for (const name of names.stdout.split(" ").filter(Boolean))
      kubectl(kubeconfig, [
        "patch",
        "subscription",
        name,
        "-n",
        n,
        "--type=merge",
        "-p",
        '{"metadata":{"finalizers":null}}',
      ]);
  }
  await server?.stop();
  helm(["uninstall", release, "--namespace", releaseNamespace, "--ignore-not-found"], kubeconfig);
  for (const n of [...namespaces, releaseNamespace])
    kubectl(kubeconfig, ["delete", "namespace", n, "--wait=false"]);
});

describe("cross-object violations refused by the apiserver through the webhooks", () => {
  it("admits a Subscription whose references do not resolve yet (GitOps order), warning about each", () => {
    const early = ok(create(subscription("s1", "nobody", "inventory", "platinum")));
    for (const warning of [
      `ApiClient nobody does not exist in namespace ${ns} yet; the Subscription waits (ResolvedRefs=False) until it is created, or correct spec.clientRef.name`,
      `Api inventory does not exist in namespace ${ns} yet; the Subscription waits (ResolvedRefs=False) until it is created, or correct spec.apiRef.name`,
      `Plan platinum does not exist in namespace ${ns} yet; the Subscription waits (ResolvedRefs=False) until it is created, or correct spec.planRef.name`,
    ])
      expect(early.stderr).toContain(`Warning: ${warning}`);
    deleteSubscription("s1");
  });

  it("admits a Subscription to a plan the Api does not offer yet, or to an open Api, with a warning", () => {
    const unoffered = ok(create(subscription("s4", "app", "billing", "partner")));
    expect(unoffered.stderr).toContain(
      "Warning: Api billing does not offer plan partner (it offers basic); the Subscription waits (ResolvedRefs=False) until partner is in the Api's spec.plans",
    );
    deleteSubscription("s4");
    const open = ok(create(subscription("s5", "app", "status-page", "basic")));
    expect(open.stderr).toContain(
      "Warning: Api status-page is open (auth type none): anyone may call it without a subscription",
    );
    deleteSubscription("s5");
  });

  it("refuses a second Subscription of one ApiClient to the same Api", () => {
    refused(
      create(subscription("s6", "app", "orders", "partner")),
      "validate.subscriptions",
      "ApiClient app already subscribes to Api orders with Subscription app-orders (plan basic); change that Subscription's planRef instead",
    );
  });

  it("security #3: refuses a Subscription naming another subscription's credentials Secret, and warns about one not granted yet", () => {
    const secret = (name: string, labels: Record<string, string>) =>
      ok(
        create({
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name, labels },
          stringData: { apiKey: "a-key-of-somebody-else-0123456789" },
        }),
      );
    secret("app-orders-credentials", { "wicked.dev/subscription": "app-orders" });
    secret("unlabelled-key", {});
    const byo = (name: string, secretName: string) => {
      const sub = subscription(name, "thief", "orders", "basic");
      return { ...sub, spec: { ...sub.spec, credentials: { secretRef: { name: secretName } } } };
    };
    refused(
      create(byo("thief-orders", "app-orders-credentials")),
      "validate.subscriptions",
      "Secret app-orders-credentials is granted to Subscription app-orders (label wicked.dev/subscription), not to thief-orders",
    );
    const waiting = ok(create(byo("thief-orders", "unlabelled-key")));
    expect(waiting.stderr).toContain(
      "Secret unlabelled-key is not granted to Subscription thief-orders: label the Secret wicked.dev/subscription=thief-orders to grant it",
    );
    refused(
      patch("subscription", "thief-orders", {
        spec: { credentials: { secretRef: { name: "app-orders-credentials" } } },
      }),
      "validate.subscriptions",
      "Secret app-orders-credentials is granted to Subscription app-orders",
    );
    deleteSubscription("thief-orders");
  });

  it("refuses a Subscription to an Api past its sunset", () => {
    refused(
      create(subscription("s7", "app2", "legacy", "basic")),
      "validate.subscriptions",
      "Api legacy was switched off at 2020-01-01T00:00:00Z (use orders); it takes no new subscriptions",
    );
  });

  it("admits moving a Subscription to a plan its Api does not offer yet, or that does not exist yet, with a warning", () => {
    const unoffered = ok(patch("subscription", "app2-billing", { spec: { planRef: { name: "gold" } } }));
    expect(unoffered.stderr).toContain("Warning: Api billing does not offer plan gold (it offers basic)");
    const missing = ok(patch("subscription", "app2-billing", { spec: { planRef: { name: "diamond" } } }));
    expect(missing.stderr).toContain(`Warning: Plan diamond does not exist in namespace ${ns} yet`);
    ok(patch("subscription", "app2-billing", { spec: { planRef: { name: "basic" } } }));
  });

  it("refuses an Api whose route another Api already has", () => {
    refused(
      create(api("orders-copy", [{ paths: ["/orders"] }], ["basic"])),
      "validate.apis",
      "spec.routes[0] clashes with a route of Api orders (any host, path /orders, all methods): the gateway could not tell them apart",
    );
  });

  it("refuses an Api sharing a host, path and method with another, but not one with other methods", () => {
    const routes = (methods: string[]) => [{ paths: ["/billing"], hosts: ["api.example.com"], methods }];
    refused(
      create(api("billing-admin", routes(["POST", "DELETE"]), ["basic"])),
      "validate.apis",
      "clashes with a route of Api billing (host api.example.com, path /billing, POST)",
    );
    ok(create(api("billing-admin", routes(["DELETE"]), ["basic"])));
    ok(create(api("orders-v2", [{ paths: ["/orders/v2"] }], ["basic"])));
  });

  it("refuses withdrawing a plan that subscriptions use, and opening an Api that has subscribers", () => {
    refused(
      patch("api", "orders", { spec: { plans: ["partner"] } }),
      "validate.apis",
      "plan basic is used by 1 subscription(s) of this Api (app-orders); move them to another plan or delete them",
    );
    refused(
      patch("api", "orders", { spec: { plans: null, auth: { type: "none" } } }),
      "validate.apis",
      "auth type none would make the Api open while 1 subscription(s) use it (app-orders)",
    );
    expect(get("api", "orders")?.spec.plans).toEqual(["basic", "partner"]);
  });

  it("refuses a second ApiPortal in a namespace", () => {
    refused(
      create(portal("second-portal")),
      "validate.apiportals",
      "ApiPortal developer-portal already serves namespace",
    );
  });
});

describe("what the webhooks allow", () => {
  it("labels a Subscription with what it refers to and gives it the operator's finalizer, and follows a plan change", () => {
    const created = get("subscription", "app-orders");
    expect(created?.metadata.labels).toMatchObject({
      "wicked.dev/client": "app",
      "wicked.dev/api": "orders",
      "wicked.dev/plan": "basic",
    });
    expect(created?.metadata.finalizers).toEqual(["wicked.dev/read-model"]);
    ok(create(subscription("app2-orders", "app2", "orders", "partner")));
    ok(patch("subscription", "app2-orders", { spec: { planRef: { name: "basic" } } }));
    expect(get("subscription", "app2-orders")?.metadata.labels?.["wicked.dev/plan"]).toBe("basic");
    const selected = JSON.parse(
      kubectlOk(kubeconfig, ["get", "subscriptions", "-n", ns, "-l", "wicked.dev/api=orders", "-o", "json"]),
    ).items.map((s: Json) => s.metadata.name);
    expect(selected.sort()).toEqual(["app-orders", "app2-orders"]);
  });

  it("warns about a plan without limits, a plan no Api offers, a missing plan and a deprecated Api", () => {
    const free = ok(create(plan("free", {})));
    expect(free.stderr).toContain("Warning: Plan free has no rate limits");
    expect(free.stderr).toContain("Warning: No Api offers plan free yet");
    const early = ok(create(api("shipping", [{ paths: ["/shipping"] }], ["basic", "express"])));
    expect(early.stderr).toContain(`Warning: plan(s) express do not exist in namespace ${ns} yet`);
    const deprecated = ok(create(subscription("app2-classic", "app2", "classic", "basic")));
    expect(deprecated.stderr).toContain(
      "Warning: Api classic is deprecated since 2025-01-01T00:00:00Z and will be switched off at 2099-01-01T00:00:00Z",
    );
  });

  it("leaves namespaces outside its selector alone", () => {
    const other = createNamespace(kubeconfig, "unlabelled");
    namespaces.push(other);
    ok(create(wicked("ApiClient", "app", { displayName: "App", owner: "dev@example.com" }), other));
    ok(create(api("orders", [{ paths: ["/orders"] }], ["basic"]), other));
    ok(create(subscription("first", "app", "orders", "basic"), other));
    // A second subscription of the client to the Api: refused where the webhooks apply, not here.
    const r = create(subscription("second", "app", "orders", "basic"), other);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain("Warning:");
  });
});

describe("certificates and failure policies", () => {
  it("serves a renewed certificate without a restart", async () => {
    const before = await servedCertificate();
    install("upgrade", ["--set", "webhooks.certificate.extraDNSNames[0]=webhooks.example.com"]);
    const renewed = writeWebhookCertificate(kubeconfig, release, releaseNamespace, certDir);
    expect(renewed).not.toBe(before);
    await eventually(
      "the server to reload its certificate",
      async () => (await servedCertificate()) === renewed,
      30_000,
      logs,
    );
    expect(server?.logs()).toContain("Reloaded the serving certificate");
    ok(create(subscription("app2-orders-v2", "app2", "orders-v2", "basic")));
  });

  it("fails closed for Subscriptions and open for Plans while the server is down, and never blocks the operator", async () => {
    await server?.stop();
    const down = create(subscription("while-down", "app2", "billing-admin", "basic"));
    expect(down.code).not.toBe(0);
    expect(down.stderr).toContain('failed calling webhook "validate.subscriptions.wicked.dev"');
    ok(create(plan("while-down")));
    // The operator writes finalizers and status only; its ServiceAccount's writes skip the webhooks.
    const operator = serviceAccountKubeconfig(kubeconfig, releaseNamespace, `${release}-wicked-operator`);
    const finalizer = { metadata: { finalizers: ["wicked.dev/read-model"] } };
    expect(patch("subscription", "app-orders", finalizer, kubeconfig).stderr).toContain(
      "failed calling webhook",
    );
    // As the operator does it: a merge patch without reading first (the operator may not get Subscriptions).
    const key = { namespace: ns, name: "app-orders" };
    const patched = await clientOf(operator).patchMerge<Json & KubeObject>(SUBSCRIPTION, key, finalizer);
    expect(patched.metadata.finalizers).toEqual(["wicked.dev/read-model"]);
    await clientOf(operator).patchMerge(SUBSCRIPTION, key, { metadata: { finalizers: null } });
    await startServer();
    await eventually(
      "the webhooks to answer again",
      () => create(subscription("while-down", "app2", "billing-admin", "basic")).code === 0,
      60_000,
      logs,
    );
  });
});

describe("config/samples", () => {
  it("applies cleanly with the webhooks active", () => {
    const samples = labelledNamespace("samples");
    const r = kubectl(kubeconfig, ["apply", "-n", samples, "-f", "config/samples/"]);
    expect(r.code, `${r.stderr}\n${logs()}`).toBe(0);
    for (const [kind, name] of [
      ["apiportal", "developer-portal"],
      ["api", "orders"],
      ["api", "weather"],
      ["plan", "basic"],
      ["plan", "partner"],
      ["apiclient", "checkout-app"],
      ["subscription", "checkout-app-weather"],
      ["subscription", "checkout-app-orders"],
    ])
      expect(getObject(kubeconfig, kind as string, name as string, samples), `${kind} ${name}`).toBeDefined();
    expect(
      getObject(kubeconfig, "subscription", "checkout-app-orders", samples)?.metadata.labels,
    ).toMatchObject({
      "wicked.dev/api": "orders",
      "wicked.dev/plan": "partner",
    });
    // Applying again changes nothing and is still allowed.
    expect(kubectl(kubeconfig, ["apply", "-n", samples, "-f", "config/samples/"]).code).toBe(0);
  });
});
