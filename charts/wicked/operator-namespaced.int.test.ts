/**
 * The operator in a namespace-scoped install (operator.watchNamespaces): the chart binds its roles in the
 * listed namespace only, and the operator, authenticated as the chart's ServiceAccount through a recording
 * proxy, reconciles a portal there without one request anywhere else — no cluster-wide list or watch (RBAC
 * would refuse it), nothing in the other namespace — and reads only the Secrets it owns, is granted or is
 * pointed at (security finding 10).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eventually, getObject } from "../../test/support/cluster.ts";
import { createTestDatabase, type TestDatabase } from "../../test/support/database.ts";
import { createNamespace, installCrds, kubectl, kubectlOk } from "../../test/support/kubectl.ts";
import { type OperatorProcess, startOperatorProcess } from "../../test/support/operator-process.ts";
import {
  CHART,
  helm,
  helmOk,
  type RecordingProxy,
  requestAttributes,
  serviceAccountKubeconfig,
  startRecordingProxy,
} from "./testing.ts";

const kubeconfig = inject("kubeconfig");
const id = Math.random().toString(36).slice(2, 8);
const release = `nsop-${id}`;
const releaseNamespace = `wicked-nsop-${id}`;
const serviceAccount = `${release}-wicked-operator`;

let team: string;
let other: string;
let proxy: RecordingProxy;
let database: TestDatabase;
let operator: OperatorProcess | undefined;

/** The same small portal in `ns`: a database Secret, a portal, a plan, an Api, a client and a subscription. */
function world(ns: string): void {
  kubectlOk(kubeconfig, [
    "create",
    "secret",
    "generic",
    "db",
    "-n",
    ns,
    `--from-literal=url=${database.url}`,
  ]);
  kubectlOk(kubeconfig, ["create", "secret", "generic", "not-wickeds", "-n", ns, "--from-literal=token=x"]);
  const manifests = [
    {
      kind: "ApiPortal",
      metadata: { name: "portal" },
      spec: {
        displayName: "Portal",
        urls: { portal: "https://developer.example.com", gateway: "https://api.example.com" },
        database: { urlSecretRef: { name: "db", key: "url" } },
        gateway: { mode: "None" },
      },
    },
    { kind: "Plan", metadata: { name: "basic" }, spec: { displayName: "Basic" } },
    {
      kind: "Api",
      metadata: { name: "orders" },
      spec: {
        displayName: "Orders",
        upstream: { url: "http://orders" },
        routes: [{ paths: ["/o"] }],
        plans: ["basic"],
      },
    },
    { kind: "ApiClient", metadata: { name: "app" }, spec: { displayName: "App", owner: "dev@example.com" } },
    {
      kind: "Subscription",
      metadata: { name: "app-orders" },
      spec: { clientRef: { name: "app" }, apiRef: { name: "orders" }, planRef: { name: "basic" } },
    },
  ];
  for (const m of manifests)
    kubectlOk(
      kubeconfig,
      ["apply", "-n", ns, "-f", "-"],
      JSON.stringify({ apiVersion: "wicked.dev/v1alpha1", ...m }),
    );
}

const canI = (verb: string, resource: string, where: string[]) =>
  kubectl(kubeconfig, [
    "auth",
    "can-i",
    verb,
    resource,
    `--as=system:serviceaccount:${releaseNamespace}:${serviceAccount}`,
    ...where,
  ]).stdout.trim();

beforeAll(async () => {
  installCrds(kubeconfig);
  kubectlOk(kubeconfig, ["create", "namespace", releaseNamespace]);
  team = createNamespace(kubeconfig, "team");
  other = createNamespace(kubeconfig, "other");
  helmOk(
    [
      "install",
      release,
      CHART,
      "--namespace",
      releaseNamespace,
      "--set",
      "webhooks.enabled=false,approvalPolicy.enabled=false",
      "--set-json",
      `operator.watchNamespaces=${JSON.stringify([team])}`,
    ],
    kubeconfig,
  );
  database = await createTestDatabase(inject("databaseUrl"));
  proxy = await startRecordingProxy(kubeconfig);
});

afterAll(async () => {
  // The portal goes while its operator runs (its finalizer), and the namespaces are gone before the next
  // file starts: a cluster-wide operator there must not find this file's portals.
  if (operator && team) {
    kubectl(kubeconfig, ["delete", "apiportal", "--all", "-n", team, "--wait=false"]);
    await eventually("the portal deleted", () => !getObject(kubeconfig, "apiportal", "portal", team), 60_000);
  }
  await operator?.stop();
  helm(["uninstall", release, "--namespace", releaseNamespace, "--ignore-not-found"], kubeconfig);
  const namespaces = [releaseNamespace, team, other].filter(Boolean);
  kubectl(kubeconfig, ["delete", "namespace", ...namespaces, "--wait=true", "--timeout=120s"]);
  await database?.drop();
  await proxy?.close();
});

describe("security #10: a namespace-scoped install", () => {
  it("binds the operator's roles in the watched namespace only", () => {
    expect(kubectl(kubeconfig, ["get", "clusterrolebinding", serviceAccount]).code).not.toBe(0);
    expect(canI("list", "secrets", ["-n", team])).toBe("yes");
    expect(canI("list", "secrets", ["-n", other])).toBe("no");
    expect(canI("list", "secrets", ["--all-namespaces"])).toBe("no");
    expect(canI("patch", "deployments", ["-n", other])).toBe("no");
  });

  it("reconciles its namespace through the chart's RBAC, and never lists, watches or reads beyond it", async () => {
    world(team);
    world(other);
    process.env.WICKED_TEST_OPERATOR_KUBECONFIG = serviceAccountKubeconfig(
      kubeconfig,
      releaseNamespace,
      serviceAccount,
      proxy,
    );
    try {
      operator = await startOperatorProcess(kubeconfig, "nsop", {
        POD_NAMESPACE: releaseNamespace,
        WICKED_WATCH_NAMESPACES: team,
      });
    } finally {
      delete process.env.WICKED_TEST_OPERATOR_KUBECONFIG;
    }
    const logs = () => operator?.logs().slice(-3000) ?? "";
    await eventually(
      "the subscription's credentials in the watched namespace",
      () => getObject(kubeconfig, "secret", "app-orders-credentials", team),
      90_000,
      logs,
    );
    expect(getObject(kubeconfig, "apiportal", "portal", other)?.status).toBeUndefined();
    expect(getObject(kubeconfig, "secret", "app-orders-credentials", other)).toBeUndefined();

    const requests = proxy.requests
      .map((r) => ({ ...r, attributes: requestAttributes(r.method, r.url) }))
      .filter((r) => r.attributes);
    expect(requests.filter((r) => r.status === 403).map((r) => `${r.method} ${r.url}`)).toEqual([]);
    const elsewhere = requests.filter(
      (r) => ![team, releaseNamespace].includes(r.attributes?.namespace ?? ""),
    );
    expect(elsewhere.map((r) => `${r.method} ${r.url}`)).toEqual([]);
    const secretReads = requests.filter((r) => r.attributes?.resource === "secrets" && r.method === "GET");
    expect(secretReads.filter((r) => r.url.includes("not-wickeds")).map((r) => r.url)).toEqual([]);
    // Every list and watch of Secrets selects: by label (owned or granted) or by the name a portal points at.
    const unselected = secretReads.filter(
      (r) => !r.attributes?.name && !/[?&](labelSelector|fieldSelector)=/.test(r.url),
    );
    expect(unselected.map((r) => r.url)).toEqual([]);
    expect(secretReads.some((r) => r.url.includes("fieldSelector=metadata.name%3Ddb"))).toBe(true);
  }, 180_000);
});
