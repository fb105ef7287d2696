/**
 * The portal's edge against the real apiserver: the Ingress and Gateway API HTTPRoutes spec.exposure asks
 * for (validated by the apiserver, with the Gateway API CRDs at the pinned version), what happens without the
 * Gateway API, and a managed Kong's objects and rollout order. No controller serves Ingresses, Gateways, Jobs
 * or Deployments here: the tests write their status as those controllers would. The managed Kong running for
 * real, with GatewayReady=True and a key working through it, is in test/e2e/node.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  conditionOf,
  getObject,
  type Json,
  listObjects,
  eventually as waitUntil,
} from "../../test/support/cluster.ts";
import { createTestDatabase, type TestDatabase } from "../../test/support/database.ts";
import { installGatewayApiCrds, removeGatewayApiCrds } from "../../test/support/gateway-api.ts";
import { createNamespace, installCrds, kubectlOk } from "../../test/support/kubectl.ts";
import {
  metricValue,
  type OperatorProcess,
  startOperatorProcess,
} from "../../test/support/operator-process.ts";

const kubeconfig = inject("kubeconfig");
let operatorNamespace: string;
let gatewayNamespace: string;
let database: TestDatabase;
let operator: OperatorProcess | undefined;
/** The namespace of each portal (one portal per namespace). */
const namespaces: Record<string, string> = {};
const ns = (portal: string) => namespaces[portal] ?? "";

const get = (kind: string, name: string, namespace: string): Json | undefined =>
  getObject(kubeconfig, kind, name, namespace);
const portalOf = (name: string) => get("apiportal", name, ns(name));
const condition = (portal: string, type: string) => conditionOf(portalOf(portal), type);
const eventually = <T>(what: string, probe: () => T | undefined | false, timeoutMs = 60_000): Promise<T> =>
  waitUntil(what, probe, timeoutMs, () => operator?.logs().slice(-4000) ?? "");
const patch = (kind: string, name: string, namespace: string, body: Json, subresource?: string) =>
  kubectlOk(kubeconfig, [
    "patch",
    kind,
    name,
    "-n",
    namespace,
    "--type=merge",
    ...(subresource ? [`--subresource=${subresource}`] : []),
    "-p",
    JSON.stringify(body),
  ]);
const apply = (namespace: string, doc: Json) =>
  kubectlOk(kubeconfig, ["apply", "-n", namespace, "-f", "-"], JSON.stringify(doc));

function secret(namespace: string, name: string, data: Record<string, string>): void {
  apply(namespace, { apiVersion: "v1", kind: "Secret", metadata: { name }, stringData: data });
}

/** A portal in a namespace of its own, with External or Managed gateway and the given exposure. */
function createPortal(name: string, spec: Json): void {
  namespaces[name] ??= createNamespace(kubeconfig, name);
  secret(ns(name), `${name}-db`, { url: database.url });
  apply(ns(name), {
    apiVersion: "wicked.dev/v1alpha1",
    kind: "ApiPortal",
    metadata: { name },
    spec: {
      displayName: name,
      urls: { portal: `https://${name}.example.com`, gateway: `https://api.${name}.example.com` },
      database: { urlSecretRef: { name: `${name}-db`, key: "url" } },
      gateway: { mode: "None" },
      ...spec,
    },
  });
}

/** What the Deployment controller and kubelets would report: every replica of the current spec available. */
function makeAvailable(name: string, namespace: string): void {
  const d = get("deployment", name, namespace);
  if (!d) throw new Error(`no Deployment ${namespace}/${name}`);
  const replicas = d.spec.replicas;
  patch(
    "deployment",
    name,
    namespace,
    {
      status: {
        observedGeneration: d.metadata.generation,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
      },
    },
    "status",
  );
}

/** What the Job controller would report when the Job's pod succeeded. */
function completeJob(name: string, namespace: string): void {
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const done = (type: string) => ({ type, status: "True", lastTransitionTime: now, lastProbeTime: now });
  patch(
    "job",
    name,
    namespace,
    {
      status: {
        startTime: now,
        completionTime: now,
        succeeded: 1,
        conditions: [done("SuccessCriteriaMet"), done("Complete")],
      },
    },
    "status",
  );
}

const image = (d: Json | undefined) => d?.spec.template.spec.containers[0].image as string | undefined;
const rules = (ingress: Json | undefined) =>
  ((ingress?.spec.rules ?? []) as Json[]).map((r) => ({
    host: r.host,
    paths: (r.http.paths as Json[]).map(
      (p) => `${p.path} -> ${p.backend.service.name}:${p.backend.service.port.number}`,
    ),
  }));
const routeRules = (route: Json | undefined) =>
  ((route?.spec.rules ?? []) as Json[]).map(
    (r) => `${r.matches[0].path.value} -> ${r.backendRefs[0].name}:${r.backendRefs[0].port}`,
  );

beforeAll(async () => {
  installCrds(kubeconfig);
  // Earlier test files may have installed the Gateway API; the first tests need a cluster without it.
  removeGatewayApiCrds(kubeconfig);
  operatorNamespace = createNamespace(kubeconfig, "edge-operator");
  gatewayNamespace = createNamespace(kubeconfig, "edge-gateways");
  database = await createTestDatabase(inject("databaseUrl"));
  operator = await startOperatorProcess(kubeconfig, "op-edge", {
    POD_NAMESPACE: operatorNamespace,
    WICKED_RESYNC_SECONDS: "30",
  });
}, 180_000);

afterAll(async () => {
  await operator?.stop();
  // Later test files find the Gateway API installed, as most clusters with it have it.
  installGatewayApiCrds(kubeconfig);
  await database?.drop();
});

describe("exposure", () => {
  it("without the Gateway API, an HTTPRoute portal says so while an Ingress portal is exposed, validated by the apiserver, with TLS from a cert-manager issuer", async () => {
    createPortal("edge-routes", {
      exposure: {
        httpRoute: { parentRefs: [{ name: "public", namespace: gatewayNamespace, sectionName: "https" }] },
      },
    });
    createPortal("edge-ingress", {
      exposure: {
        ingress: {
          className: "nginx",
          annotations: { "nginx.ingress.kubernetes.io/proxy-body-size": "8m" },
          tls: { secretName: "edge-ingress-tls", issuerRef: { name: "letsencrypt", kind: "ClusterIssuer" } },
        },
      },
    });

    const missing = await eventually(
      "Exposed=False GatewayApiNotInstalled",
      () =>
        condition("edge-routes", "Exposed")?.reason === "GatewayApiNotInstalled" &&
        condition("edge-routes", "Exposed"),
    );
    expect(missing.status).toBe("False");
    expect(missing.message).toContain("install the Gateway API CRDs");
    expect(portalOf("edge-routes")?.status.exposure).toEqual({ kind: "HTTPRoute" });
    // The portal's own parts still roll out: a kind the cluster lacks stalls nothing else.
    await eventually("edge-routes' Deployments", () =>
      get("deployment", "edge-routes-portal-ui", ns("edge-routes")),
    );

    const ingress = await eventually("the Ingress", () => get("ingress", "edge-ingress", ns("edge-ingress")));
    expect(ingress.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: "ApiPortal", name: "edge-ingress", controller: true }),
    ]);
    expect(ingress.metadata.annotations).toMatchObject({
      "cert-manager.io/cluster-issuer": "letsencrypt",
      "nginx.ingress.kubernetes.io/proxy-body-size": "8m",
    });
    expect(ingress.spec.ingressClassName).toBe("nginx");
    expect(ingress.spec.tls).toEqual([
      { hosts: ["edge-ingress.example.com"], secretName: "edge-ingress-tls" },
    ]);
    expect(rules(ingress)).toEqual([
      {
        host: "edge-ingress.example.com",
        paths: [
          "/auth -> edge-ingress-auth-server:3010",
          "/api -> edge-ingress-portal-api:3001",
          "/ -> edge-ingress-portal-ui:3000",
        ],
      },
    ]);
    const waiting = await eventually("Exposed=Unknown", () => condition("edge-ingress", "Exposed"));
    expect(waiting).toMatchObject({ status: "Unknown", reason: "WaitingForController" });

    // The ingress controller publishes its address.
    patch(
      "ingress",
      "edge-ingress",
      ns("edge-ingress"),
      { status: { loadBalancer: { ingress: [{ ip: "203.0.113.7" }] } } },
      "status",
    );
    await eventually("Exposed=True", () => condition("edge-ingress", "Exposed")?.status === "True");
    expect(condition("edge-ingress", "Exposed")?.reason).toBe("Admitted");
    expect(portalOf("edge-ingress")?.status.exposure).toEqual({
      kind: "Ingress",
      routes: [
        {
          name: "portal",
          url: "https://edge-ingress.example.com",
          service: "edge-ingress-portal-ui",
          object: "edge-ingress",
        },
        {
          name: "api",
          url: "https://edge-ingress.example.com/api",
          service: "edge-ingress-portal-api",
          object: "edge-ingress",
        },
        {
          name: "auth",
          url: "https://edge-ingress.example.com/auth",
          service: "edge-ingress-auth-server",
          object: "edge-ingress",
        },
      ],
      addresses: ["203.0.113.7"],
    });
  });

  it("once the Gateway API CRDs are installed, renders the HTTPRoute without a restart, and follows its Gateway's verdict", async () => {
    installGatewayApiCrds(kubeconfig);
    secret(gatewayNamespace, "wildcard-tls", { "tls.crt": "certificate", "tls.key": "key" });
    apply(gatewayNamespace, {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "Gateway",
      metadata: { name: "public" },
      spec: {
        gatewayClassName: "example",
        listeners: [
          {
            name: "https",
            protocol: "HTTPS",
            port: 443,
            hostname: "*.example.com",
            tls: { mode: "Terminate", certificateRefs: [{ kind: "Secret", name: "wildcard-tls" }] },
            allowedRoutes: { namespaces: { from: "All" } },
          },
        ],
      },
    });
    const route = await eventually(
      "the HTTPRoute",
      () => get("httproute", "edge-routes-portal", ns("edge-routes")),
      120_000,
    );
    expect(route.spec.parentRefs).toEqual([
      {
        group: "gateway.networking.k8s.io",
        kind: "Gateway",
        name: "public",
        namespace: gatewayNamespace,
        sectionName: "https",
      },
    ]);
    expect(route.spec.hostnames).toEqual(["edge-routes.example.com"]);
    expect(routeRules(route)).toEqual([
      "/auth -> edge-routes-auth-server:3010",
      "/api -> edge-routes-portal-api:3001",
      "/ -> edge-routes-portal-ui:3000",
    ]);
    await eventually(
      "Exposed=Unknown",
      () => condition("edge-routes", "Exposed")?.reason === "WaitingForController",
    );

    const verdict = (status: string, reason: string, message: string) =>
      patch(
        "httproute",
        "edge-routes-portal",
        ns("edge-routes"),
        {
          status: {
            parents: [
              {
                parentRef: {
                  group: "gateway.networking.k8s.io",
                  kind: "Gateway",
                  name: "public",
                  namespace: gatewayNamespace,
                  sectionName: "https",
                },
                controllerName: "example.com/gateway-controller",
                conditions: [
                  {
                    type: "Accepted",
                    status,
                    reason,
                    message,
                    observedGeneration: route.metadata.generation,
                    lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
                  },
                ],
              },
            ],
          },
        },
        "status",
      );
    verdict("False", "NotAllowedByListeners", "no listener allows routes from this namespace");
    const refused = await eventually(
      "Exposed=False RouteNotAccepted",
      () =>
        condition("edge-routes", "Exposed")?.reason === "RouteNotAccepted" &&
        condition("edge-routes", "Exposed"),
    );
    expect(refused.message).toContain(
      "NotAllowedByListeners (no listener allows routes from this namespace)",
    );
    expect(condition("edge-routes", "Ready")?.message).toContain("Exposed: Not accepted");

    verdict("True", "Accepted", "");
    await eventually("Exposed=True", () => condition("edge-routes", "Exposed")?.status === "True");
    expect(portalOf("edge-routes")?.status.exposure.routes.map((r: Json) => `${r.name} ${r.object}`)).toEqual(
      ["portal edge-routes-portal", "api edge-routes-portal", "auth edge-routes-portal"],
    );
  }, 180_000);

  it("follows a change of URL: a host of its own gets its own HTTPRoute and Ingress rule, and loses them again", async () => {
    patch("apiportal", "edge-routes", ns("edge-routes"), {
      spec: { urls: { auth: "https://login.edge-routes.example.com/realms/shop" } },
    });
    const auth = await eventually("the auth host's HTTPRoute", () =>
      get("httproute", "edge-routes-auth", ns("edge-routes")),
    );
    expect(auth.spec.hostnames).toEqual(["login.edge-routes.example.com"]);
    expect(routeRules(auth)).toEqual(["/realms/shop -> edge-routes-auth-server:3010"]);
    await eventually(
      "the portal host's HTTPRoute without /auth",
      () => routeRules(get("httproute", "edge-routes-portal", ns("edge-routes"))).length === 2,
    );

    patch("apiportal", "edge-ingress", ns("edge-ingress"), {
      spec: { urls: { api: "https://portal-api.edge-ingress.example.com" } },
    });
    const ingress = await eventually("the Ingress with two hosts", () => {
      const i = get("ingress", "edge-ingress", ns("edge-ingress"));
      return i?.spec.rules.length === 2 && i;
    });
    expect(rules(ingress)).toEqual([
      {
        host: "edge-ingress.example.com",
        paths: ["/auth -> edge-ingress-auth-server:3010", "/ -> edge-ingress-portal-ui:3000"],
      },
      { host: "portal-api.edge-ingress.example.com", paths: ["/ -> edge-ingress-portal-api:3001"] },
    ]);
    expect(ingress.spec.tls[0].hosts).toEqual([
      "edge-ingress.example.com",
      "portal-api.edge-ingress.example.com",
    ]);

    // Removing a field (the annotation, the issuer) removes it from the Ingress too.
    patch("apiportal", "edge-ingress", ns("edge-ingress"), {
      spec: { exposure: { ingress: { annotations: null, tls: { issuerRef: null } } } },
    });
    await eventually("the Ingress without the annotations", () => {
      const annotations = get("ingress", "edge-ingress", ns("edge-ingress"))?.metadata.annotations ?? {};
      return (
        !annotations["cert-manager.io/cluster-issuer"] &&
        !annotations["nginx.ingress.kubernetes.io/proxy-body-size"]
      );
    });

    patch("apiportal", "edge-routes", ns("edge-routes"), { spec: { urls: { auth: null } } });
    await eventually(
      "the auth host's HTTPRoute deleted",
      () => !get("httproute", "edge-routes-auth", ns("edge-routes")),
    );
    expect(routeRules(get("httproute", "edge-routes-portal", ns("edge-routes")))).toHaveLength(3);
  });

  it("switching from Ingress to HTTPRoute replaces one with the other, and turning exposure off removes them", async () => {
    patch("apiportal", "edge-ingress", ns("edge-ingress"), {
      spec: {
        exposure: {
          ingress: null,
          httpRoute: { parentRefs: [{ name: "public", namespace: gatewayNamespace }] },
        },
      },
    });
    await eventually("the Ingress deleted", () => !get("ingress", "edge-ingress", ns("edge-ingress")));
    await eventually(
      "its HTTPRoutes",
      () => listObjects(kubeconfig, "httproutes", ns("edge-ingress")).length === 2,
    );

    for (const name of ["edge-ingress", "edge-routes"])
      patch("apiportal", name, ns(name), { spec: { exposure: null } });
    for (const name of ["edge-ingress", "edge-routes"]) {
      await eventually(
        `${name}'s routes removed`,
        () => listObjects(kubeconfig, "httproutes", ns(name)).length === 0,
      );
      await eventually(
        `${name} not exposed`,
        () => condition(name, "Exposed")?.reason === "ExposureNotConfigured",
      );
      expect(portalOf(name)?.status.exposure).toBeUndefined();
    }
  });
});

describe("a managed Kong", () => {
  const portal = "edge-kong";
  const names = {
    deployment: `${portal}-kong`,
    migrate: `${portal}-kong-migrate`,
    finish: `${portal}-kong-finish`,
  };

  it("runs bootstrap and up before the Deployment exists and finish after it rolled out, with the database from the named Secret and the Admin API closed to other namespaces", async () => {
    createPortal(portal, {
      gateway: {
        mode: "Managed",
        managed: { replicas: 1, databaseUrlSecretRef: { name: "kong-database-url", key: "url" } },
      },
      exposure: { ingress: {} },
    });
    const namespace = ns(portal);
    const gateway = await eventually("GatewayReady", () => condition(portal, "GatewayReady"));
    expect(gateway).toMatchObject({ status: "False", reason: "SecretNotFound" });
    expect(get("job", names.migrate, namespace)).toBeUndefined();

    secret(namespace, "kong-database-url", {
      url: "postgres://kong:s3cret@kong-db.example.com:5432/kong?sslmode=require",
    });
    const migrate = await eventually("the migrate Job", () => get("job", names.migrate, namespace));
    const pod = migrate.spec.template.spec;
    expect(pod.initContainers.map((c: Json) => c.args)).toEqual([["kong", "migrations", "bootstrap"]]);
    expect(pod.containers.map((c: Json) => c.args)).toEqual([["kong", "migrations", "up"]]);
    expect(pod.containers[0].image).toBe("kong:3.9");
    expect(pod.containers[0].envFrom).toEqual([{ secretRef: { name: `${portal}-kong-database` } }]);
    const settings = get("secret", `${portal}-kong-database`, namespace)?.data ?? {};
    const decoded = Object.fromEntries(
      Object.entries(settings).map(([k, v]) => [k, Buffer.from(String(v), "base64").toString()]),
    );
    expect(decoded).toMatchObject({
      KONG_PG_HOST: "kong-db.example.com",
      KONG_PG_USER: "kong",
      KONG_PG_PASSWORD: "s3cret",
      KONG_PG_DATABASE: "kong",
      KONG_PG_SSL: "on",
    });
    expect(condition(portal, "GatewayReady")).toMatchObject({
      status: "False",
      reason: "ManagedGatewayUnavailable",
    });
    expect(condition(portal, "GatewayReady")?.message).toContain(
      "running kong migrations bootstrap and up with kong:3.9",
    );
    expect(get("deployment", names.deployment, namespace)).toBeUndefined();

    const policy = get("networkpolicy", `${portal}-kong-admin`, namespace);
    expect(policy?.spec.ingress[1]).toEqual({
      from: [namespace, operatorNamespace]
        .sort()
        .map((n) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": n } } })),
      ports: [{ protocol: "TCP", port: 8001 }],
    });
    expect(get("service", `${portal}-kong-proxy`, namespace)?.spec.ports[0]).toMatchObject({
      port: 80,
      targetPort: "proxy",
    });
    expect(get("service", `${portal}-kong-admin`, namespace)?.spec.ports[0]).toMatchObject({ port: 8001 });
    // The API host goes to Kong's proxy.
    const ingress = await eventually("the Ingress", () => get("ingress", portal, namespace));
    expect(rules(ingress)[0]).toEqual({
      host: `api.${portal}.example.com`,
      paths: [`/ -> ${portal}-kong-proxy:80`],
    });

    completeJob(names.migrate, namespace);
    const deployment = await eventually("Kong's Deployment", () =>
      get("deployment", names.deployment, namespace),
    );
    expect(image(deployment)).toBe("kong:3.9");
    expect(JSON.stringify(deployment)).not.toContain("s3cret");
    await new Promise((r) => setTimeout(r, 2000));
    expect(get("job", names.finish, namespace), "finish waits for the rollout").toBeUndefined();

    makeAvailable(names.deployment, namespace);
    const finish = await eventually("the finish Job", () => get("job", names.finish, namespace));
    expect(finish.spec.template.spec.containers[0].args).toEqual(["kong", "migrations", "finish"]);
    completeJob(names.finish, namespace);
    // The operator runs outside the cluster here, so the Admin API's Service name does not resolve: what
    // GatewayReady says is the real probe's answer. On the real node it is True (test/e2e/node).
    const probed = await eventually(
      "GatewayReady from the Admin API",
      () =>
        condition(portal, "GatewayReady")?.reason === "AdminApiUnreachable" &&
        condition(portal, "GatewayReady"),
    );
    expect(probed.message).toContain(`http://${portal}-kong-admin.${namespace}.svc:8001`);
  });

  it("upgrades in order: migrations up with the new image, then the rollout, then finish", async () => {
    const namespace = ns(portal);
    const before = get("job", names.migrate, namespace)?.metadata.uid;
    patch("apiportal", portal, namespace, { spec: { gateway: { managed: { image: "kong:3.10" } } } });
    const migrate = await eventually("a new migrate Job", () => {
      const job = get("job", names.migrate, namespace);
      return job && job.metadata.uid !== before && job;
    });
    expect(migrate.spec.template.spec.containers[0].image).toBe("kong:3.10");
    await new Promise((r) => setTimeout(r, 2000));
    expect(image(get("deployment", names.deployment, namespace)), "the old Kong runs while up runs").toBe(
      "kong:3.9",
    );
    expect(get("job", names.finish, namespace)?.spec.template.spec.containers[0].image).toBe("kong:3.9");

    completeJob(names.migrate, namespace);
    await eventually(
      "the Deployment on kong:3.10",
      () => image(get("deployment", names.deployment, namespace)) === "kong:3.10",
    );
    await new Promise((r) => setTimeout(r, 2000));
    expect(
      get("job", names.finish, namespace)?.spec.template.spec.containers[0].image,
      "finish waits for the rollout",
    ).toBe("kong:3.9");
    makeAvailable(names.deployment, namespace);
    await eventually(
      "finish with kong:3.10",
      () => get("job", names.finish, namespace)?.spec.template.spec.containers[0].image === "kong:3.10",
    );
  });

  it("costs no writes to its objects when an unchanged portal is resynced", async () => {
    const namespace = ns(portal);
    completeJob(names.finish, namespace);
    patch(
      "ingress",
      portal,
      namespace,
      { status: { loadBalancer: { ingress: [{ hostname: "lb.example.net" }] } } },
      "status",
    );
    await operator?.stop();
    operator = await startOperatorProcess(kubeconfig, "op-edge-resync", {
      POD_NAMESPACE: operatorNamespace,
      WICKED_RESYNC_SECONDS: "2",
    });
    await eventually(
      "the rollout done",
      () => !condition(portal, "GatewayReady")?.message.includes("upgrading"),
    );
    await eventually("Exposed=True", () => condition(portal, "Exposed")?.status === "True");
    await new Promise((r) => setTimeout(r, 3000));
    const reconciles = async () =>
      metricValue(
        await (await fetch(operator?.metricsUrl ?? "")).text(),
        "controller_runtime_reconcile_total",
        {
          controller: "apiportal",
        },
      );
    const before = edgeWrites();
    const reconcilesBefore = await reconciles();
    await new Promise((r) => setTimeout(r, 8000));
    expect(Object.keys(before)).toContain("APPLY batch/jobs");
    expect((await reconciles()) - reconcilesBefore).toBeGreaterThanOrEqual(3);
    expect(edgeWrites()).toEqual(before);
  });

  it("removes the managed Kong when the portal leaves Managed mode", async () => {
    const namespace = ns(portal);
    patch("apiportal", portal, namespace, {
      spec: { gateway: { mode: "External", managed: null, adminUrl: "http://kong-admin.kong.svc:8001" } },
    });
    await eventually("Kong's objects removed", () =>
      [
        ["deployment", names.deployment],
        ["job", names.migrate],
        ["job", names.finish],
        ["service", `${portal}-kong-proxy`],
        ["service", `${portal}-kong-admin`],
        ["networkpolicy", `${portal}-kong-admin`],
        ["secret", `${portal}-kong-database`],
      ].every(([kind, name]) => !get(kind as string, name as string, namespace)),
    );
    // The portal's own parts stay.
    expect(get("deployment", `${portal}-portal-ui`, namespace)).toBeDefined();
    expect(get("secret", `${portal}-session`, namespace)).toBeDefined();
    const ingress = get("ingress", portal, namespace);
    expect(rules(ingress).map((r) => r.host)).toEqual([`${portal}.example.com`]);
  });
});

/** The kinds of the portal's edge the operator writes. */
const EDGE_KINDS = new Set([
  "networking.k8s.io/ingresses",
  "networking.k8s.io/networkpolicies",
  "gateway.networking.k8s.io/httproutes",
  "batch/jobs",
  "apps/deployments",
  "/services",
  "/secrets",
]);

/** Writes (not status) the apiserver served to the edge's kinds, by verb and resource, from its own metrics. */
function edgeWrites(): Record<string, number> {
  const text = kubectlOk(kubeconfig, ["get", "--raw", "/metrics"]);
  const writes: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^apiserver_request_total\{(.*)\} (\d+)/.exec(line);
    if (!m?.[1]) continue;
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (!["POST", "PUT", "PATCH", "APPLY", "DELETE"].includes(labels.verb ?? "") || labels.subresource)
      continue;
    if (!EDGE_KINDS.has(`${labels.group}/${labels.resource}`)) continue;
    const key = `${labels.verb} ${labels.group}/${labels.resource}`;
    writes[key] = (writes[key] ?? 0) + Number(m[2]);
  }
  return writes;
}
