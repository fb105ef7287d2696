/**
 * wicked as a platform team runs it: the chart installed with Helm on a real node, the image built from the
 * Dockerfile, every component in a pod under the restricted Pod Security Standard, and a developer's journey
 * through the pods' Services. The cluster is this machine's node (hack/cluster) or any other through
 * KUBECONFIG; the Kong test double, an echo upstream and the mail and chat sinks run in this process on
 * the address pods reach the machine on.
 *
 * The steps depend on each other and run in order. When one fails, the pods, events, logs of every
 * container, `kubectl get wicked -o yaml`, what the sinks received and screenshots go to
 * test-results/e2e-node/.
 */
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { helmAsyncOk } from "../../../charts/wicked/testing.ts";
import { type EchoServer, startEchoServer } from "../../kong/contract-support.ts";
import { type KongDouble, startKongDouble } from "../../kong/kong-double.ts";
import { launchBrowser, textOf, watchedPage } from "../../support/browser.ts";
import { type ChatSink, startChatSink } from "../../support/chat-sink.ts";
import { eventually, type Json } from "../../support/cluster.ts";
import { kubectlAsync, kubectlAsyncOk } from "../../support/kubectl.ts";
import {
  confirmEmail,
  logIn,
  registerApplication,
  showKey,
  signUp,
  subscribe,
} from "../../support/portal-pages.ts";
import { type ReceivedMail, type SmtpSink, startSmtpSink } from "../../support/smtp-sink.ts";

const ARTIFACTS = join("test-results", "e2e-node");
const RELEASE = "wicked";
const SYSTEM = "wicked-system";
const SHOP = "shop-e2e";
const PORTAL = "developer-portal";
/** The namespace and portal of the managed gateway (gateway.mode Managed, Kong's place taken by the double). */
const MANAGED = "shop-managed-e2e";
const GATEWAY_PORTAL = "gateway-portal";
const PASSWORD = "correct horse battery staple";
const DEVELOPER = { email: "dana@example.com", name: "Dana Developer" };
const RESTRICTED = { "pod-security.kubernetes.io/enforce": "restricted" };

const kubeconfig = inject("nodeKubeconfig");
const hostAddress = inject("hostAddress");
const images = inject("images");
const started = Date.now();
const figures: string[] = [];

let kong: KongDouble;
let echo: EchoServer;
let smtp: SmtpSink;
let chat: ChatSink;
let browser: Browser | undefined;
const pages: Array<{ name: string; page: Page }> = [];

/** Service names of the portal, as the ApiPortal's URLs name them: cluster DNS inside, resolver rules in Chromium. */
const host = (component: string) => `${PORTAL}-${component}.${SHOP}.svc.cluster.local`;
const urls = {
  portal: `http://${host("portal-ui")}:3000`,
  api: `http://${host("portal-api")}:3001`,
  auth: `http://${host("auth-server")}:3010`,
};

const k = (args: string[], input?: string) => kubectlAsyncOk(kubeconfig, args, 600_000, input);
const getJson = async (args: string[]): Promise<Json> => JSON.parse(await k([...args, "-o", "json"])) as Json;
const apply = (namespace: string, docs: Json[]) =>
  k(["apply", "-n", namespace, "-f", "-"], docs.map((d) => JSON.stringify(d)).join("\n---\n"));
const note = (line: string) => {
  figures.push(line);
  console.log(line);
};

function chartValues(extra: string[] = []): string[] {
  const [repository, tag] = splitImage(images.wicked);
  const [pgRepository, pgTag] = splitImage(images.postgres);
  return [
    "--set-string",
    `image.repository=${repository},image.tag=${tag}`,
    "--set",
    "postgres.enabled=true",
    "--set-string",
    `postgres.image.repository=${pgRepository},postgres.image.tag=${pgTag}`,
    "--set",
    "operator.gatewayResyncSeconds=10,operator.resyncSeconds=60",
    ...extra,
  ];
}

function splitImage(ref: string): [string, string] {
  const at = ref.lastIndexOf(":");
  return [ref.slice(0, at), ref.slice(at + 1)];
}

/** Pods of a namespace with the seconds from creation to Ready. */
async function pods(namespace: string, selector?: string): Promise<Json[]> {
  const list = await getJson(["get", "pods", "-n", namespace, ...(selector ? ["-l", selector] : [])]);
  return list.items as Json[];
}

const ready = (pod: Json) =>
  pod.status?.phase === "Running" &&
  (pod.status?.conditions ?? []).some((c: Json) => c.type === "Ready" && c.status === "True");

function secondsToReady(pod: Json): number {
  const readyAt = (pod.status?.conditions ?? []).find((c: Json) => c.type === "Ready")?.lastTransitionTime;
  return (Date.parse(readyAt) - Date.parse(pod.metadata.creationTimestamp)) / 1000;
}

function mailsTo(email: string, kind: string): ReceivedMail[] {
  return smtp.messages.filter(
    (m) =>
      m.envelope.to.includes(email) &&
      (m.headers.get("x-wicked-effect-key") ?? "").startsWith(`mail:${kind}:`),
  );
}

async function gatewayStatus(path: string, headers: Record<string, string>): Promise<number> {
  return (await fetch(`${kong.proxyUrl}${path}`, { headers })).status;
}

async function keepArtifacts(reason: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  appendFileSync(join(ARTIFACTS, "failure.txt"), `${reason}\n\n`);
  const save = async (file: string, args: string[]) => {
    const r = await kubectlAsync(kubeconfig, args, 60_000);
    writeFileSync(join(ARTIFACTS, file), r.stdout + r.stderr);
  };
  await save("pods.txt", ["get", "pods", "-A", "-o", "wide"]);
  await save("events.txt", ["get", "events", "-A", "--sort-by=.lastTimestamp"]);
  await save("wicked.yaml", ["get", "wicked", "-n", SHOP, "-o", "yaml"]);
  await save("wicked-managed.yaml", ["get", "wicked,jobs", "-n", MANAGED, "-o", "yaml"]);
  await save("workloads.yaml", ["get", "deployments,statefulsets,services,pvc", "-A", "-o", "yaml"]);
  for (const namespace of [SYSTEM, SHOP, MANAGED]) {
    const list = await kubectlAsync(kubeconfig, ["get", "pods", "-n", namespace, "-o", "name"], 60_000);
    for (const pod of list.stdout.split("\n").filter(Boolean))
      await save(`logs-${namespace}-${pod.replace("pod/", "")}.txt`, [
        "logs",
        "-n",
        namespace,
        pod,
        "--all-containers",
        "--tail=400",
      ]);
  }
  writeFileSync(
    join(ARTIFACTS, "mails.json"),
    JSON.stringify(
      (smtp?.messages ?? []).map((m) => ({ to: m.envelope.to, subject: m.subject, text: m.text })),
      null,
      2,
    ),
  );
  for (const [i, { name, page }] of pages.entries())
    await page
      .screenshot({ path: join(ARTIFACTS, `${i}-${name}.png`), fullPage: true })
      .catch(() => undefined);
}

beforeAll(async () => {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  kong = await startKongDouble({ host: hostAddress });
  echo = await startEchoServer();
  smtp = await startSmtpSink({ host: hostAddress });
  chat = await startChatSink(hostAddress);
  for (const namespace of [SYSTEM, SHOP])
    await apply("default", [
      { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels: RESTRICTED } },
    ]);
}, 120_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail") {
    const errors = (ctx.task.result.errors ?? []).map((e) => e.stack ?? e.message).join("\n");
    await keepArtifacts(`${ctx.task.name}\n${errors}`);
  }
}, 300_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  // Whatever a failed step left behind goes, so the next run starts clean.
  await kubectlAsync(kubeconfig, ["delete", "wicked", "--all", "-n", SHOP, "--wait=false"]);
  await kubectlAsync(kubeconfig, ["delete", "wicked", "--all", "-n", MANAGED, "--wait=false"]);
  await kubectlAsync(kubeconfig, ["delete", "namespace", SHOP, SYSTEM, MANAGED, "--wait=false"]);
  await chat?.stop();
  await smtp?.stop();
  await echo?.stop();
  await kong?.stop();
  note(`suite wall time: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  mkdirSync("test-results", { recursive: true });
  writeFileSync(join("test-results", "e2e-node-figures.txt"), `${figures.join("\n")}\n`);
}, 300_000);

describe("wicked installed with Helm on a real node", () => {
  it("installs: the operator (2 replicas), the webhooks and the bundled Postgres run Ready under the restricted Pod Security Standard", async () => {
    const imageBytes = inject("imageBytes");
    if (imageBytes > 0) note(`image ${images.wicked}: ${(imageBytes / 1024 / 1024).toFixed(0)} MiB`);
    const t0 = Date.now();
    await helmAsyncOk(
      ["install", RELEASE, "charts/wicked", "-n", SYSTEM, ...chartValues(), "--wait", "--timeout=10m"],
      kubeconfig,
    );
    note(`helm install --wait: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const system = await pods(SYSTEM);
    const byComponent = (c: string) =>
      system.filter((p) => p.metadata.labels?.["app.kubernetes.io/component"] === c);
    expect(byComponent("operator")).toHaveLength(2);
    expect(byComponent("webhooks").length).toBeGreaterThanOrEqual(1);
    expect(byComponent("postgres")).toHaveLength(1);
    for (const pod of system) {
      expect(ready(pod), `${pod.metadata.name} is Running and Ready`).toBe(true);
      note(`${pod.metadata.name}: creation -> Ready ${secondsToReady(pod).toFixed(1)} s`);
    }
  }, 900_000);

  it("a portal on the bundled Postgres becomes Ready, with ComponentsAvailable=True from real Deployments", async () => {
    const database = await getJson(["get", "secret", `${RELEASE}-postgres`, "-n", SYSTEM]);
    const slack = chat.url("/slack/e2e");
    await apply(SHOP, [
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "portal-database" },
        data: { url: database.data.url },
      },
      { apiVersion: "v1", kind: "Secret", metadata: { name: "portal-smtp" }, stringData: { url: smtp.url } },
      { apiVersion: "v1", kind: "Secret", metadata: { name: "slack-webhook" }, stringData: { url: slack } },
      {
        apiVersion: "wicked.dev/v1alpha1",
        kind: "ApiPortal",
        metadata: { name: PORTAL },
        spec: {
          displayName: "Shop Developer Portal",
          urls: { ...urls, gateway: kong.proxyUrl },
          database: { urlSecretRef: { name: "portal-database", key: "url" }, deletionPolicy: "Delete" },
          gateway: { mode: "External", adminUrl: kong.adminUrl },
          login: { local: { enabled: true, allowSignup: true, passwordMinLength: 12 } },
          mail: {
            smtpSecretRef: { name: "portal-smtp" },
            from: "Shop API Portal <noreply@shop.example.com>",
          },
          chat: {
            targets: [
              {
                name: "api-team",
                type: "Slack",
                webhookUrlSecretRef: { name: "slack-webhook", key: "url" },
                events: ["SignedUp"],
              },
            ],
          },
          branding: { title: "Build on the Shop platform" },
        },
      },
      {
        apiVersion: "wicked.dev/v1alpha1",
        kind: "Plan",
        metadata: { name: "basic" },
        spec: { displayName: "Basic", rateLimits: { minute: 600 } },
      },
      {
        apiVersion: "wicked.dev/v1alpha1",
        kind: "Api",
        metadata: { name: "orders" },
        spec: {
          displayName: "Orders API",
          description: "Create and track orders.",
          upstream: { url: `http://127.0.0.1:${echo.port}` },
          routes: [{ paths: ["/orders"] }],
          auth: { type: "key-auth", keyHeader: "X-Api-Key" },
          plans: ["basic"],
        },
      },
    ]);
    const t0 = Date.now();
    await k(["wait", "--for=condition=Ready", `apiportal/${PORTAL}`, "-n", SHOP, "--timeout=600s"]);
    note(`ApiPortal applied -> Ready: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const portal = await getJson(["get", "apiportal", PORTAL, "-n", SHOP]);
    const available = (portal.status.conditions as Json[]).find((c) => c.type === "ComponentsAvailable");
    expect(available?.status).toBe("True");
    for (const name of ["portal-ui", "portal-api", "auth-server"]) {
      const deployment = await getJson(["get", "deployment", `${PORTAL}-${name}`, "-n", SHOP]);
      expect(deployment.status.availableReplicas, name).toBeGreaterThanOrEqual(1);
    }
    for (const pod of await pods(SHOP)) {
      expect(ready(pod), `${pod.metadata.name} is Running and Ready`).toBe(true);
      note(`${pod.metadata.name}: creation -> Ready ${secondsToReady(pod).toFixed(1)} s`);
    }
    await k(["wait", "--for=condition=Ready", "api/orders", "plan/basic", "-n", SHOP, "--timeout=300s"]);
  }, 900_000);

  it("every pod runs Ready with a read-only root file system in namespaces that enforce the restricted standard", async () => {
    const all = await k(["get", "pods", "-A", "-o", "wide"]);
    console.log(`kubectl get pods -A\n${all}`);
    for (const namespace of [SYSTEM, SHOP]) {
      const ns = await getJson(["get", "namespace", namespace]);
      expect(ns.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
      const list = await pods(namespace);
      expect(list.length).toBeGreaterThan(0);
      for (const pod of list) {
        expect(ready(pod), pod.metadata.name).toBe(true);
        for (const c of pod.spec.containers as Json[])
          expect(c.securityContext?.readOnlyRootFilesystem, `${pod.metadata.name}/${c.name}`).toBe(true);
      }
    }
    // The restricted standard is enforced, not just labelled: a privileged pod is refused.
    const refused = await kubectlAsync(
      kubeconfig,
      ["apply", "-n", SHOP, "-f", "-"],
      60_000,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "privileged" },
        spec: { containers: [{ name: "c", image: images.wicked, securityContext: { privileged: true } }] },
      }),
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("violates PodSecurity");
  }, 120_000);

  it("cluster DNS works in pods: the components find each other and Postgres by Service name", async () => {
    const [pod] = await pods(SHOP, "app.kubernetes.io/component=portal-api");
    const lookup = async (name: string) =>
      (
        await k([
          "exec",
          "-n",
          SHOP,
          pod?.metadata.name,
          "--",
          "node",
          "-e",
          `require("node:dns").promises.lookup(${JSON.stringify(name)}).then((a) => console.log(a.address))`,
        ])
      ).trim();
    for (const [name, service, namespace] of [
      [host("auth-server"), `${PORTAL}-auth-server`, SHOP],
      [`${RELEASE}-postgres.${SYSTEM}.svc`, `${RELEASE}-postgres`, SYSTEM],
    ] as const) {
      const clusterIp = (await getJson(["get", "service", service, "-n", namespace])).spec.clusterIP;
      expect(await lookup(name), name).toBe(clusterIp);
    }
  }, 120_000);

  it("a developer signs up, verifies by mail, logs in, registers an application and subscribes through the pods' Services; the key works at the gateway", async () => {
    const hosts: Record<string, string> = {};
    for (const name of ["portal-ui", "portal-api", "auth-server"])
      hosts[host(name)] = (await getJson(["get", "service", `${PORTAL}-${name}`, "-n", SHOP])).spec.clusterIP;
    browser = await launchBrowser(hosts);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { page } = await watchedPage(context);
    page.setDefaultTimeout(60_000);
    pages.push({ name: "developer", page });

    await page.goto(urls.portal);
    expect(await textOf(page.getByRole("heading", { level: 1 }))).toBe("Build on the Shop platform");
    await signUp(page, urls.portal, DEVELOPER, PASSWORD);
    const mail = await eventually(
      "the verification mail",
      () => mailsTo(DEVELOPER.email, "verify-email").at(-1),
      180_000,
    );
    const link = /(https?:\/\/\S+\/verify-email\?token=\S+)/.exec(mail.text)?.[1] ?? "";
    expect(link.startsWith(`${urls.portal}/verify-email?token=`), mail.text).toBe(true);
    await confirmEmail(page, link);
    await logIn(page, urls, DEVELOPER.email, PASSWORD);
    await registerApplication(page, urls.portal, "Storefront", "Our web shop.");
    await subscribe(page, urls.portal, "orders", "Storefront", "basic");
    const { key, header } = await showKey(page, page.url(), 180_000, () => "");
    expect(header).toBe("X-Api-Key");

    await eventually(
      "the key works at the gateway",
      async () => (await gatewayStatus("/orders", { [header]: key })) === 200,
      180_000,
    );
    expect(await gatewayStatus("/orders", {})).toBe(401);
    expect(await gatewayStatus("/orders", { [header]: "not-the-key" })).toBe(401);
    await eventually(
      "the chat message about the sign-up",
      () => chat.posts.some((p) => JSON.stringify(p.body).includes(DEVELOPER.email)),
      120_000,
    );
  }, 900_000);

  it("when the leading operator pod is deleted, the other replica leads and a Subscription created meanwhile becomes Active", async () => {
    const lease = await getJson(["get", "lease", "wicked-operator", "-n", SYSTEM]);
    const leader = lease.spec.holderIdentity as string;
    const t0 = Date.now();
    await k(["delete", "pod", leader, "-n", SYSTEM, "--wait=false"]);
    await apply(SHOP, [
      {
        apiVersion: "wicked.dev/v1alpha1",
        kind: "ApiClient",
        metadata: { name: "failover-app" },
        spec: { displayName: "Failover App", owner: "ops@shop.example.com", clientType: "confidential" },
      },
      {
        apiVersion: "wicked.dev/v1alpha1",
        kind: "Subscription",
        metadata: { name: "failover-app-orders" },
        spec: { clientRef: { name: "failover-app" }, apiRef: { name: "orders" }, planRef: { name: "basic" } },
      },
    ]);
    const next = await eventually(
      "another replica holds the Lease",
      async () => {
        const holder = (await getJson(["get", "lease", "wicked-operator", "-n", SYSTEM])).spec.holderIdentity;
        return holder && holder !== leader ? (holder as string) : undefined;
      },
      120_000,
    );
    note(
      `operator takeover after deleting the leader ${leader}: ${((Date.now() - t0) / 1000).toFixed(1)} s (new leader ${next})`,
    );
    await k([
      "wait",
      "--for=condition=Ready",
      "subscription/failover-app-orders",
      "-n",
      SHOP,
      "--timeout=300s",
    ]);
    const subscription = await getJson(["get", "subscription", "failover-app-orders", "-n", SHOP]);
    expect(subscription.status.phase).toBe("Active");
    note(`deleted leader -> Subscription Active: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 600_000);

  it("helm upgrade with a changed value rolls the operator while the portal keeps answering; rotating the signing keys rolls only auth-server", async () => {
    const before = await getJson(["get", "deployment", `${RELEASE}-operator`, "-n", SYSTEM]);
    // The Services' ClusterIPs, as a client inside the cluster would call them.
    const targets = [`http://${await ip("portal-ui")}:3000/`, `http://${await ip("portal-api")}:3001/apis`];
    const probe = { requests: 0, failures: [] as string[], stop: false };
    const loop = (async () => {
      while (!probe.stop) {
        for (const url of targets) {
          try {
            const r = await fetch(url, { signal: AbortSignal.timeout(5_000) });
            await r.arrayBuffer();
            if (r.status !== 200) probe.failures.push(`${url}: ${r.status}`);
          } catch (err) {
            probe.failures.push(`${url}: ${err instanceof Error ? err.message : String(err)}`);
          }
          probe.requests++;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await helmAsyncOk(
      [
        "upgrade",
        RELEASE,
        "charts/wicked",
        "-n",
        SYSTEM,
        ...chartValues(["--set", "operator.logLevel=debug"]),
        "--wait",
        "--timeout=10m",
      ],
      kubeconfig,
    );
    await k(["rollout", "status", `deployment/${RELEASE}-operator`, "-n", SYSTEM, "--timeout=300s"]);
    probe.stop = true;
    await loop;
    const after = await getJson(["get", "deployment", `${RELEASE}-operator`, "-n", SYSTEM]);
    expect(after.metadata.generation).toBeGreaterThan(before.metadata.generation);
    note(
      `helm upgrade: ${probe.requests} portal requests during the rollout, ${probe.failures.length} failed`,
    );
    expect(probe.failures).toEqual([]);
    expect(probe.requests).toBeGreaterThan(10);

    const generations = async () =>
      Object.fromEntries(
        await Promise.all(
          ["portal-ui", "portal-api", "auth-server"].map(async (c) => [
            c,
            (await getJson(["get", "deployment", `${PORTAL}-${c}`, "-n", SHOP])).metadata
              .generation as number,
          ]),
        ),
      ) as Record<string, number>;
    const was = await generations();
    await k([
      "patch",
      "apiportal",
      PORTAL,
      "-n",
      SHOP,
      "--type=merge",
      "-p",
      JSON.stringify({
        spec: { signingKeys: { rotationRequestedAt: new Date(Date.now() + 1000).toISOString() } },
      }),
    ]);
    await eventually(
      "the auth server's Deployment changes",
      async () => ((await generations())["auth-server"] ?? 0) > (was["auth-server"] ?? 0),
      180_000,
    );
    await k(["rollout", "status", `deployment/${PORTAL}-auth-server`, "-n", SHOP, "--timeout=300s"]);
    const now = await generations();
    expect(now["portal-ui"]).toBe(was["portal-ui"]);
    expect(now["portal-api"]).toBe(was["portal-api"]);
    await k(["wait", "--for=condition=Ready", `apiportal/${PORTAL}`, "-n", SHOP, "--timeout=300s"]);
  }, 900_000);

  it.skipIf(!images.kongDouble)(
    "a portal with gateway.mode Managed runs its Kong (the test double's image in Kong's place): migrations before the rollout, the gateway pod Ready, GatewayReady=True, a subscription's key works through the gateway's Service, and an image change upgrades in order",
    async () => {
      await apply("default", [
        { apiVersion: "v1", kind: "Namespace", metadata: { name: MANAGED, labels: RESTRICTED } },
      ]);
      const database = await getJson(["get", "secret", `${RELEASE}-postgres`, "-n", SYSTEM]);
      const t0 = Date.now();
      await apply(MANAGED, [
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "portal-database" },
          data: { url: database.data.url },
        },
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "kong-database" },
          data: { url: database.data.kongUrl },
        },
        {
          apiVersion: "wicked.dev/v1alpha1",
          kind: "ApiPortal",
          metadata: { name: GATEWAY_PORTAL },
          spec: {
            displayName: "Managed gateway",
            urls: {
              portal: `http://${GATEWAY_PORTAL}.${MANAGED}.example`,
              gateway: `http://${GATEWAY_PORTAL}-kong-proxy.${MANAGED}.svc.cluster.local`,
            },
            database: { urlSecretRef: { name: "portal-database", key: "url" } },
            gateway: {
              mode: "Managed",
              managed: {
                image: images.kongDouble,
                // The double keeps its entities in memory: one replica, or each would hold its own.
                replicas: 1,
                databaseUrlSecretRef: { name: "kong-database", key: "url" },
                resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
              },
            },
            // Only the gateway matters here: no portal components run.
            components: {
              portalUi: { replicas: 0 },
              portalApi: { replicas: 0 },
              authServer: { replicas: 0 },
            },
          },
        },
        {
          apiVersion: "wicked.dev/v1alpha1",
          kind: "Plan",
          metadata: { name: "gold" },
          spec: { displayName: "Gold", rateLimits: { minute: 600 } },
        },
        {
          apiVersion: "wicked.dev/v1alpha1",
          kind: "Api",
          metadata: { name: "inventory" },
          spec: {
            displayName: "Inventory API",
            upstream: { url: `http://${hostAddress}:${echo.port}` },
            routes: [{ paths: ["/inventory"] }],
            auth: { type: "key-auth", keyHeader: "X-Api-Key" },
            plans: ["gold"],
          },
        },
        {
          apiVersion: "wicked.dev/v1alpha1",
          kind: "ApiClient",
          metadata: { name: "warehouse" },
          spec: { displayName: "Warehouse", owner: "ops@shop.example.com", clientType: "confidential" },
        },
        {
          apiVersion: "wicked.dev/v1alpha1",
          kind: "Subscription",
          metadata: { name: "warehouse-inventory" },
          spec: {
            clientRef: { name: "warehouse" },
            apiRef: { name: "inventory" },
            planRef: { name: "gold" },
          },
        },
      ]);
      const jobs = { migrate: `${GATEWAY_PORTAL}-kong-migrate`, finish: `${GATEWAY_PORTAL}-kong-finish` };
      // `kubectl wait` fails at once on an object that does not exist yet: wait for it to appear first.
      const wait = async (what: string) => {
        const [condition, ...objects] = what.split(" ");
        for (const object of objects)
          await eventually(
            `${object} exists`,
            async () => (await kubectlAsync(kubeconfig, ["get", "-n", MANAGED, object])).code === 0,
            300_000,
          );
        await k(["wait", "-n", MANAGED, "--timeout=300s", condition as string, ...objects]);
      };
      await wait(`--for=condition=Complete job/${jobs.migrate}`);
      await wait(`--for=jsonpath={.status.readyReplicas}=1 deployment/${GATEWAY_PORTAL}-kong`);
      await k(["rollout", "status", `deployment/${GATEWAY_PORTAL}-kong`, "-n", MANAGED, "--timeout=300s"]);
      const selector = `app.kubernetes.io/instance=${GATEWAY_PORTAL},app.kubernetes.io/component=kong`;
      const [pod] = await pods(MANAGED, selector);
      expect(ready(pod as Json), "the gateway pod is Ready").toBe(true);
      note(`managed gateway: ApiPortal applied -> Kong pod Ready ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      await wait(`--for=condition=GatewayReady apiportal/${GATEWAY_PORTAL}`);
      const portal = await getJson(["get", "apiportal", GATEWAY_PORTAL, "-n", MANAGED]);
      const gatewayReady = (portal.status.conditions as Json[]).find((c) => c.type === "GatewayReady");
      expect(gatewayReady).toMatchObject({ status: "True", reason: "AdminApiReachable" });
      expect(gatewayReady?.message).toContain(`http://${GATEWAY_PORTAL}-kong-admin.${MANAGED}.svc:8001`);
      await wait(`--for=condition=Complete job/${jobs.finish}`);
      await wait(`--for=condition=Ready apiportal/${GATEWAY_PORTAL} subscription/warehouse-inventory`);

      const sub = await getJson(["get", "subscription", "warehouse-inventory", "-n", MANAGED]);
      const credentials = await getJson(["get", "secret", sub.status.credentialsSecret, "-n", MANAGED]);
      const key = Buffer.from(credentials.data.apiKey, "base64").toString("utf8");
      const proxy = (await getJson(["get", "service", `${GATEWAY_PORTAL}-kong-proxy`, "-n", MANAGED])).spec
        .clusterIP as string;
      const call = async (headers: Record<string, string>) =>
        (await fetch(`http://${proxy}/inventory`, { headers, signal: AbortSignal.timeout(5_000) })).status;
      await eventually(
        "the key works through the managed gateway's Service",
        async () => (await call({ "X-Api-Key": key })) === 200,
        120_000,
      );
      expect(await call({})).toBe(401);
      expect(await call({ "X-Api-Key": "not-the-key" })).toBe(401);
      note(
        `managed gateway: ApiPortal applied -> key works at its Service ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );

      // An upgrade: `kong migrations up` with the new image, then the rollout, then `finish`.
      const t1 = Date.now();
      await k([
        "patch",
        "apiportal",
        GATEWAY_PORTAL,
        "-n",
        MANAGED,
        "--type=merge",
        "-p",
        JSON.stringify({ spec: { gateway: { managed: { image: images.kongDoubleNext } } } }),
      ]);
      const image = async (kind: string, name: string) =>
        (await getJson(["get", kind, name, "-n", MANAGED])).spec.template.spec.containers[0].image as string;
      await eventually(
        "the finish Job for the new image",
        async () => (await image("job", jobs.finish)) === images.kongDoubleNext,
        300_000,
      );
      await wait(`--for=condition=Complete job/${jobs.finish}`);
      expect(await image("deployment", `${GATEWAY_PORTAL}-kong`)).toBe(images.kongDoubleNext);
      // The double records every migration command and start in the kong database, in order.
      const log = (
        await k([
          "exec",
          "-n",
          SYSTEM,
          `${RELEASE}-postgres-0`,
          "--",
          "psql",
          "-U",
          "wicked",
          "-d",
          "kong",
          "-Atc",
          "SELECT command || ' ' || version FROM wicked_kong_double_log ORDER BY id",
        ])
      )
        .trim()
        .split("\n");
      console.log(`kong database, migration and start log:\n${log.join("\n")}`);
      expect(log[0]).toBe("bootstrap 3.9.0");
      const up = log.indexOf("up 3.9.1");
      const started = log.indexOf("start 3.9.1");
      const finished = log.indexOf("finish 3.9.1");
      expect(up, "up runs before any 3.9.1 node starts").toBeGreaterThan(log.indexOf("start 3.9.0"));
      expect(started).toBeGreaterThan(up);
      expect(finished, "finish runs after the rollout").toBeGreaterThan(started);
      await wait(`--for=condition=GatewayReady apiportal/${GATEWAY_PORTAL}`);
      // The double's entities lived in the old pod's memory: the gateway's periodic sync restores them.
      await eventually(
        "the key works after the upgrade",
        async () => (await call({ "X-Api-Key": key })) === 200,
        120_000,
      );
      note(`managed gateway: upgrade (up, rollout, finish) ${((Date.now() - t1) / 1000).toFixed(1)} s`);

      // The finalizer removes the portal's Kong entities through the managed Admin API, then Kong goes with it.
      await k([
        "delete",
        "subscriptions,apiclients,apis,plans,apiportals",
        "--all",
        "-n",
        MANAGED,
        "--timeout=300s",
      ]);
      await k(["delete", "namespace", MANAGED, "--timeout=300s"]);
    },
    900_000,
  );

  it("helm uninstall and deleting the namespaces leave no pods, webhooks, custom resources or objects stuck on finalizers", async () => {
    // Resources first, while the operator runs and can honour their finalizers; then the release.
    await k([
      "delete",
      "subscriptions,apiclients,apis,plans,apiportals",
      "--all",
      "-n",
      SHOP,
      "--timeout=300s",
    ]);
    await helmAsyncOk(["uninstall", RELEASE, "-n", SYSTEM, "--wait", "--timeout=5m"], kubeconfig);
    await k(["delete", "namespace", SHOP, SYSTEM, "--timeout=300s"]);
    const left = await k([
      "get",
      "pods,validatingwebhookconfigurations,mutatingwebhookconfigurations,validatingadmissionpolicies",
      "-A",
      "-l",
      `app.kubernetes.io/instance=${RELEASE}`,
      "-o",
      "name",
    ]);
    expect(left.trim()).toBe("");
    expect((await k(["get", "wicked", "-A", "-o", "name"])).trim()).toBe("");
    const namespaces = (await k(["get", "namespaces", "-o", "name"])).split("\n");
    expect(namespaces).not.toContain(`namespace/${SHOP}`);
    expect(namespaces).not.toContain(`namespace/${SYSTEM}`);
  }, 900_000);
});

/** The ClusterIP of a portal component's Service. */
async function ip(component: string): Promise<string> {
  return (await getJson(["get", "service", `${PORTAL}-${component}`, "-n", SHOP])).spec.clusterIP as string;
}
