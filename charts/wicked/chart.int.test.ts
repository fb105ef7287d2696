/**
 * The chart with the pinned helm and the real apiserver: lint, schema validation of values and of the
 * rendered manifests (server-side dry run), install, upgrade and uninstall.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import YAML from "yaml";
import { installCrds, kubectl, kubectlOk } from "../../test/support/kubectl.ts";
import { WEBHOOK_PATHS } from "../../webhooks/server.ts";
import { expandRules, templateRoles } from "./rbac.ts";
import { CHART, helm, helmOk, KUBE_VERSION, type Manifest, pick, render } from "./testing.ts";

const kubeconfig = inject("kubeconfig");
const id = Math.random().toString(36).slice(2, 8);
const release = `chart-${id}`;
const namespace = `wicked-chart-${id}`;
/** Keeps the release's webhooks away from other tests' namespaces: no namespace carries this label. */
const scoped = ["--set-json", `webhooks.namespaceSelector={"matchLabels":{"wicked.dev/chart-test":"${id}"}}`];

const get = (args: string[]) => JSON.parse(kubectlOk(kubeconfig, [...args, "-o", "json"]));
const secretData = (name: string, key: string) =>
  Buffer.from(get(["get", "secret", name, "-n", namespace]).data[key], "base64").toString();

beforeAll(() => {
  installCrds(kubeconfig);
  kubectlOk(kubeconfig, ["create", "namespace", namespace]);
});

afterAll(() => {
  helm(["uninstall", release, "-n", namespace, "--ignore-not-found"], kubeconfig);
  kubectl(kubeconfig, ["delete", "namespace", namespace, "--wait=false"]);
});

describe("helm lint and rendering", () => {
  it("lints clean with --strict", () => {
    const r = helm(["lint", "--strict", CHART, "--kube-version", KUBE_VERSION]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  it("renders the operator as two leader-electing, non-root replicas with probes, metrics and resources", () => {
    const deployment = pick(render(), "Deployment", "-operator");
    expect(deployment.spec.replicas).toBe(2);
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    expect(pod.serviceAccountName).toBe("wicked-operator");
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(container.command).toEqual(["node", "--optimize-for-size", "/app/bin/wicked.js"]);
    expect(container.args).toEqual(["operator"]);
    expect(container.image).toBe("ghcr.io/wicked-dev/wicked:0.1.0");
    const env = Object.fromEntries(container.env.map((e: Manifest) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({
      POD_NAME: { fieldRef: { fieldPath: "metadata.name" } },
      POD_NAMESPACE: { fieldRef: { fieldPath: "metadata.namespace" } },
      WICKED_IMAGE: "ghcr.io/wicked-dev/wicked:0.1.0",
      WICKED_LOG_LEVEL: "info",
      WICKED_RESYNC_SECONDS: "300",
      WICKED_GATEWAY_RESYNC_SECONDS: "60",
      WICKED_METRICS_PORT: "8080",
      WICKED_HEALTH_PORT: "8081",
      NODE_OPTIONS: "--enable-source-maps --max-old-space-size=160 --max-semi-space-size=2",
      MALLOC_ARENA_MAX: "2",
      MALLOC_MMAP_THRESHOLD_: "131072",
    });
    expect(container.ports.map((p: Manifest) => p.containerPort)).toEqual([8080, 8081]);
    expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "http-health" });
    expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "http-health" });
    expect(container.resources.requests).toEqual({ cpu: "100m", memory: "256Mi" });
  });

  it("passes values into the operator's environment", () => {
    const deployment = pick(
      render([
        "--set",
        `operator.logLevel=debug,operator.resyncSeconds=120,image.digest=sha256:${"a".repeat(64)}`,
      ]),
      "Deployment",
      "-operator",
    );
    const [container] = deployment.spec.template.spec.containers;
    const env = Object.fromEntries(container.env.map((e: Manifest) => [e.name, e.value]));
    expect(env.WICKED_LOG_LEVEL).toBe("debug");
    expect(env.WICKED_RESYNC_SECONDS).toBe("120");
    expect(container.image).toBe(`ghcr.io/wicked-dev/wicked@sha256:${"a".repeat(64)}`);
  });

  it("renders the roles that rbac.test.ts checks against the code", () => {
    const manifests = render();
    const clusterRole = pick(manifests, "ClusterRole", "-operator");
    const leaderElection = pick(manifests, "ClusterRole", "-operator-leader-election");
    expect(expandRules(clusterRole.rules)).toEqual(expandRules(templateRoles().operator));
    expect(expandRules(leaderElection.rules)).toEqual(expandRules(templateRoles().leaderElection));
    const binding = pick(manifests, "RoleBinding", "-operator-leader-election");
    expect(binding.metadata.namespace).toBe("wicked-system");
    expect(binding.roleRef.name).toBe("wicked-operator-leader-election");
  });

  it("renders webhooks at the server's paths with the documented failure policies, skipping the operator", () => {
    const manifests = render();
    const validating = pick(manifests, "ValidatingWebhookConfiguration").webhooks as Manifest[];
    const mutating = pick(manifests, "MutatingWebhookConfiguration").webhooks as Manifest[];
    const policies = Object.fromEntries(
      [...validating, ...mutating].map((w) => [w.clientConfig.service.path, w.failurePolicy]),
    );
    expect(policies).toEqual({
      [WEBHOOK_PATHS.validateSubscription]: "Fail",
      [WEBHOOK_PATHS.validateApi]: "Fail",
      [WEBHOOK_PATHS.validateApiPortal]: "Ignore",
      [WEBHOOK_PATHS.validatePlan]: "Ignore",
      [WEBHOOK_PATHS.defaultSubscription]: "Ignore",
    });
    const ca = pick(manifests, "Secret", "-webhooks-ca").data["ca.crt"];
    for (const w of [...validating, ...mutating]) {
      expect(w.clientConfig.caBundle).toBe(ca);
      expect(w.clientConfig.service).toMatchObject({
        name: "wicked-webhooks",
        namespace: "wicked-system",
        port: 443,
      });
      expect(w.matchConditions[0].expression).toContain(
        "system:serviceaccount:wicked-system:wicked-operator",
      );
    }
  });

  it("ships the approval policy of config/admission", () => {
    const manifests = render([], "wicked");
    const reference = YAML.parseAllDocuments(
      readFileSync("config/admission/subscription-approval.yaml", "utf8"),
    ).map((d) => d.toJS() as Manifest);
    for (const kind of ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "ClusterRole"]) {
      const mine = manifests.find(
        (m) =>
          m.kind === kind &&
          m.metadata.name.startsWith("wicked-") &&
          m.metadata.labels["app.kubernetes.io/component"] === "admission",
      );
      const theirs = reference.find((m) => m.kind === kind);
      expect(mine?.metadata.name).toBe(theirs?.metadata.name);
      expect(mine?.spec ?? mine?.rules).toEqual(theirs?.spec ?? theirs?.rules);
    }
  });

  it("issues the serving certificate for the webhook Service from the CA in the caBundle", () => {
    const manifests = render(["--set", "webhooks.certificate.extraIPAddresses[0]=127.0.0.1"]);
    const dir = mkdtempSync(join(tmpdir(), "wicked-chart-cert-"));
    const tls = pick(manifests, "Secret", "-webhooks-tls").data;
    writeFileSync(join(dir, "ca.crt"), Buffer.from(tls["ca.crt"], "base64"));
    writeFileSync(join(dir, "tls.crt"), Buffer.from(tls["tls.crt"], "base64"));
    const verify = execFileSync("openssl", ["verify", "-CAfile", join(dir, "ca.crt"), join(dir, "tls.crt")], {
      encoding: "utf8",
    });
    expect(verify).toContain("OK");
    const sans = execFileSync(
      "openssl",
      ["x509", "-in", join(dir, "tls.crt"), "-noout", "-ext", "subjectAltName"],
      {
        encoding: "utf8",
      },
    );
    expect(sans).toContain("DNS:wicked-webhooks.wicked-system.svc");
    expect(sans).toContain("IP Address:127.0.0.1");
  });

  it("uses cert-manager instead when asked: a Certificate, CA injection, no caBundle and no generated Secrets", () => {
    const manifests = render(["--set", "certManager.enabled=true"]);
    expect(manifests.filter((m) => m.kind === "Secret")).toEqual([]);
    const certificate = pick(manifests, "Certificate", "-webhooks");
    expect(certificate.spec.secretName).toBe("wicked-webhooks-tls");
    expect(certificate.spec.dnsNames).toContain("wicked-webhooks.wicked-system.svc");
    expect(certificate.spec.issuerRef).toEqual({
      name: "wicked-webhooks-ca",
      kind: "Issuer",
      group: "cert-manager.io",
    });
    const validating = pick(manifests, "ValidatingWebhookConfiguration");
    expect(validating.metadata.annotations["cert-manager.io/inject-ca-from"]).toBe(
      "wicked-system/wicked-webhooks",
    );
    expect(validating.webhooks.every((w: Manifest) => w.clientConfig.caBundle === undefined)).toBe(true);
    const own = render([
      "--set",
      "certManager.enabled=true,certManager.issuerRef.name=corp,certManager.issuerRef.kind=ClusterIssuer",
    ]);
    expect(own.filter((m) => m.kind === "Issuer")).toEqual([]);
    expect(pick(own, "Certificate").spec.issuerRef).toEqual({
      name: "corp",
      kind: "ClusterIssuer",
      group: "cert-manager.io",
    });
  });

  it("renders optional parts only when enabled: Postgres, the ServiceMonitor, webhooks served from a URL", () => {
    const defaults = render();
    expect(defaults.some((m) => m.kind === "StatefulSet" || m.kind === "ServiceMonitor")).toBe(false);
    const all = render(["--set", "postgres.enabled=true,metrics.serviceMonitor.enabled=true"]);
    expect(pick(all, "StatefulSet", "-postgres").spec.template.spec.containers[0].image).toBe(
      "docker.io/library/postgres:15-bookworm",
    );
    expect(pick(all, "ServiceMonitor").spec.endpoints[0].port).toBe("http-metrics");
    const external = render(["--set", "webhooks.url=https://127.0.0.1:9443"]);
    expect(external.some((m) => m.kind === "Deployment" && m.metadata.name.endsWith("-webhooks"))).toBe(
      false,
    );
    expect(pick(external, "ValidatingWebhookConfiguration").webhooks[0].clientConfig.url).toBe(
      `https://127.0.0.1:9443${WEBHOOK_PATHS.validateSubscription}`,
    );
  });
});

describe("values.schema.json", () => {
  const bad: Array<[string, string[]]> = [
    ["zero operator replicas", ["--set", "operator.replicas=0"]],
    ["a misspelt key", ["--set", "operator.replica=2"]],
    ["an unknown log level", ["--set", "operator.logLevel=verbose"]],
    ["a webhook timeout above the apiserver's 30 s", ["--set", "webhooks.timeoutSeconds=60"]],
    ["a webhook URL without TLS", ["--set", "webhooks.url=http://127.0.0.1:9443"]],
    ["a malformed digest", ["--set", "image.digest=latest"]],
    ["running as root", ["--set", "podSecurityContext.runAsNonRoot=false"]],
    ["replicas as a string", ["--set-string", "webhooks.replicas=two"]],
    ["an unknown issuer kind", ["--set", "certManager.issuerRef.kind=Vault"]],
    ["an invalid storage size", ["--set", "postgres.storage.size=lots"]],
  ];
  it.each(bad)("rejects %s", (_what, args) => {
    const r = helm(["template", "wicked", CHART, "--kube-version", KUBE_VERSION, ...args]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("values don't meet the specifications of the schema");
  });

  it("accepts the documented values", () => {
    const r = helm([
      "template",
      "wicked",
      CHART,
      "--kube-version",
      KUBE_VERSION,
      "--set",
      "operator.replicas=3,operator.logLevel=debug,webhooks.timeoutSeconds=10,postgres.storage.size=5Gi,image.digest=sha256:" +
        "0".repeat(64),
    ]);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe("against the real apiserver", () => {
  it.each([
    ["the defaults", []],
    [
      "everything optional that needs no extra CRDs",
      ["--set", "postgres.enabled=true,webhooks.url=https://127.0.0.1:9443"],
    ],
    [
      "webhooks and the approval policy off",
      ["--set", "webhooks.enabled=false,approvalPolicy.enabled=false"],
    ],
  ])("accepts the rendering of %s in a server-side dry run", (_what, args) => {
    const text = helmOk([
      "template",
      release,
      CHART,
      "--namespace",
      namespace,
      "--kube-version",
      KUBE_VERSION,
      ...scoped,
      ...(args as string[]),
    ]);
    const r = kubectl(kubeconfig, ["apply", "--dry-run=server", "--validate=strict", "-f", "-"], text);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("(server dry run)");
  });

  it("installs, keeps the webhook certificate across an upgrade, and uninstalls without leaving webhooks behind", () => {
    const out = helmOk(["install", release, CHART, "--namespace", namespace, ...scoped], kubeconfig);
    expect(out).toContain("STATUS: deployed");
    expect(out).toContain("kubectl -n");
    const selector = `app.kubernetes.io/instance=${release}`;
    const names = (kind: string) =>
      get(["get", kind, "-A", "-l", selector]).items.map((i: Manifest) => i.metadata.name as string);
    expect(names("deployments.apps").sort()).toEqual([
      `${release}-wicked-operator`,
      `${release}-wicked-webhooks`,
    ]);
    expect(names("validatingwebhookconfigurations")).toEqual([`${release}-wicked-webhooks`]);
    expect(names("mutatingwebhookconfigurations")).toEqual([`${release}-wicked-webhooks`]);
    expect(names("validatingadmissionpolicies")).toEqual([`${release}-wicked-subscription-approval`]);
    const caBundle = get(["get", "validatingwebhookconfiguration", `${release}-wicked-webhooks`]).webhooks[0]
      .clientConfig.caBundle;
    expect(Buffer.from(caBundle, "base64").toString()).toBe(
      secretData(`${release}-wicked-webhooks-ca`, "ca.crt"),
    );

    const certificate = secretData(`${release}-wicked-webhooks-tls`, "tls.crt");
    helmOk(
      ["upgrade", release, CHART, "--namespace", namespace, ...scoped, "--set", "operator.logLevel=debug"],
      kubeconfig,
    );
    expect(secretData(`${release}-wicked-webhooks-tls`, "tls.crt")).toBe(certificate);
    helmOk(
      [
        "upgrade",
        release,
        CHART,
        "--namespace",
        namespace,
        ...scoped,
        "--set",
        "webhooks.certificate.renewBeforeDays=400",
      ],
      kubeconfig,
    );
    expect(
      secretData(`${release}-wicked-webhooks-tls`, "tls.crt"),
      "renewed within renewBeforeDays",
    ).not.toBe(certificate);
    expect(secretData(`${release}-wicked-webhooks-ca`, "ca.crt")).toBe(
      Buffer.from(caBundle, "base64").toString(),
    );

    helmOk(["uninstall", release, "--namespace", namespace], kubeconfig);
    for (const kind of [
      "validatingwebhookconfigurations",
      "mutatingwebhookconfigurations",
      "validatingadmissionpolicies",
      "validatingadmissionpolicybindings",
      "clusterroles",
      "clusterrolebindings",
    ])
      expect(names(kind), kind).toEqual([]);
    expect(kubectl(kubeconfig, ["get", "crd", "subscriptions.wicked.dev"]).code, "Helm keeps CRDs").toBe(0);
  });
});
