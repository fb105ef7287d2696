/**
 * The CRDs against the real apiserver: the samples apply, `kubectl get wicked` shows the printer columns,
 * `kubectl explain` shows the doc comments, and invalid manifests are refused with the message a user sees.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, inject, it } from "vitest";
import YAML from "yaml";
import { createNamespace, installCrds, kubectl, kubectlOk } from "../../test/support/kubectl.ts";

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
};

const kubeconfig = inject("kubeconfig");
let namespace: string;

function sample(file: string, name: string): Manifest {
  const docs = YAML.parseAllDocuments(readFileSync(`config/samples/${file}`, "utf8")).map(
    (d) => d.toJS() as Manifest,
  );
  const doc = docs.find((d) => d.metadata.name === name);
  if (!doc) throw new Error(`config/samples/${file} has no ${name}`);
  return structuredClone(doc);
}

const portal = () => sample("apiportal.yaml", "developer-portal");
const api = () => sample("api.yaml", "orders");
const oauthApi = () => sample("api.yaml", "weather");
const plan = () => sample("plan.yaml", "basic");
const client = () => sample("apiclient.yaml", "checkout-app");
const subscription = () => sample("subscription.yaml", "checkout-app-weather");

/** Sets a value at a dotted path under spec, creating objects on the way; undefined deletes it. */
function set(m: Manifest, path: string, value: unknown): Manifest {
  const keys = path.split(".");
  let obj: Record<string, unknown> = m.spec;
  for (const key of keys.slice(0, -1)) {
    obj[key] ??= {};
    obj = obj[key] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1] as string;
  if (value === undefined) delete obj[last];
  else obj[last] = value;
  return m;
}

function create(m: Manifest) {
  return kubectl(kubeconfig, ["create", "-n", namespace, "-f", "-"], JSON.stringify(m));
}

beforeAll(() => {
  installCrds(kubeconfig);
  namespace = createNamespace(kubeconfig, "validation");
});

describe("samples", () => {
  it("apply cleanly and are listed by kubectl get wicked with their printer columns", () => {
    kubectlOk(kubeconfig, ["apply", "-n", namespace, "-f", "config/samples/"]);
    const out = kubectlOk(kubeconfig, ["get", "wicked", "-n", namespace]);
    for (const name of [
      "developer-portal",
      "orders",
      "weather",
      "basic",
      "partner",
      "checkout-app",
      "checkout-app-orders",
    ]) {
      expect(out).toContain(name);
    }
    const headers = out.split("\n").filter((l) => l.startsWith("NAME"));
    expect(headers).toHaveLength(5);
    for (const header of headers) expect(header).toMatch(/READY\s+AGE$/);
    expect(headers.join("\n")).toMatch(/NAME\s+CLIENT\s+API\s+PLAN\s+PHASE\s+READY\s+AGE/);
    expect(headers.join("\n")).toMatch(/NAME\s+URL\s+GATEWAY\s+READY\s+AGE/);
  });

  it("get defaults from the schema", () => {
    const weather = JSON.parse(
      kubectlOk(kubeconfig, ["get", "api", "weather", "-n", namespace, "-o", "json"]),
    );
    expect(weather.spec.routes[0].stripPath).toBe(true);
    const basic = JSON.parse(kubectlOk(kubeconfig, ["get", "plan", "basic", "-n", namespace, "-o", "json"]));
    expect(basic.spec.requiresApproval).toBe(false);
    const sub = JSON.parse(
      kubectlOk(kubeconfig, ["get", "subscription", "checkout-app-orders", "-n", namespace, "-o", "json"]),
    );
    expect(sub.spec.credentials.rotation.overlapSeconds).toBe(3600);
  });
});

describe("kubectl explain", () => {
  const explain = async (path: string): Promise<string> => {
    // The apiserver publishes a new CRD's OpenAPI document a few seconds after it is established.
    for (let i = 0; ; i++) {
      const r = kubectl(kubeconfig, ["explain", path]);
      if (r.code === 0 || i > 30) return r.stdout + r.stderr;
      await new Promise((res) => setTimeout(res, 1000));
    }
  };

  it.each([
    [
      "api.spec.routes",
      [
        "Routes through which clients reach the API on the gateway.",
        "stripPath",
        "Path prefixes, each starting with /.",
      ],
    ],
    ["api.spec.auth.type", ["key-auth: clients send an API key in a header.", "oauth2", "none"]],
    ["plan.spec.rateLimits", ["Requests a subscriber may make per period", "minute", "Requests per minute."]],
    ["subscription.spec.approval", ["The approval decision, set by an approver", "Rejected is final"]],
    ["apiportal.spec.gateway", ["External: wicked configures an existing Kong through its Admin API."]],
    ["apiclient.spec.redirectUris", ["Exact redirect URIs for the authorization code flow"]],
  ])("%s shows the doc comments", async (path, texts) => {
    const out = await explain(path);
    for (const text of texts) expect(out).toContain(text);
  });
});

describe("invalid manifests are refused with a message a user can act on", () => {
  const cases: Array<[string, () => Manifest, string[]]> = [
    [
      "portal without a gateway URL",
      () => set(portal(), "urls.gateway", undefined),
      ["spec.urls.gateway: Required value"],
    ],
    [
      "portal URL that is not http(s)",
      () => set(portal(), "urls.portal", "ftp://portal.example.com"),
      ["spec.urls.portal", "should match"],
    ],
    [
      "External gateway without adminUrl",
      () => set(portal(), "gateway.adminUrl", undefined),
      ["gateway.adminUrl is required when gateway.mode is External"],
    ],
    [
      "adminUrl without External mode",
      () => set(portal(), "gateway.mode", "None"),
      ["gateway.adminUrl is only used when gateway.mode is External"],
    ],
    [
      "unknown gateway mode",
      () => set(portal(), "gateway.mode", "Cloud"),
      ['spec.gateway.mode: Unsupported value: "Cloud"', '"External", "Managed", "None"'],
    ],
    [
      "Managed gateway without its database",
      () => set(set(portal(), "gateway.adminUrl", undefined), "gateway.mode", "Managed"),
      ["gateway.managed (at least its databaseUrlSecretRef) is required when gateway.mode is Managed"],
    ],
    [
      "exposure through both an Ingress and an HTTPRoute",
      () => set(portal(), "exposure", { ingress: {}, httpRoute: { parentRefs: [{ name: "public" }] } }),
      ["set exactly one of exposure.ingress and exposure.httpRoute"],
    ],
    [
      "exposed managed gateway whose URL has a path",
      () => {
        const m = set(set(portal(), "gateway.adminUrl", undefined), "gateway.mode", "Managed");
        set(m, "gateway.managed", { databaseUrlSecretRef: { name: "kong-database", key: "url" } });
        set(m, "exposure", { ingress: {} });
        return set(m, "urls.gateway", "https://shop.example.com/apis");
      },
      ["urls.gateway must have no path when the managed gateway is exposed"],
    ],
    [
      "HTTPRoute exposure without a Gateway",
      () => set(portal(), "exposure", { httpRoute: { parentRefs: [] } }),
      ["spec.exposure.httpRoute.parentRefs", "should have at least 1 items"],
    ],
    [
      "no way to log in",
      () => set(set(portal(), "login.local.enabled", false), "login.oidc", undefined),
      ["enable local login or configure at least one OIDC provider"],
    ],
    [
      "password minimum below 8",
      () => set(portal(), "login.local.passwordMinLength", 4),
      ["spec.login.local.passwordMinLength", "greater than or equal to 8"],
    ],
    [
      "colour that is not #rrggbb",
      () => set(portal(), "branding.primaryColor", "blue"),
      ["spec.branding.primaryColor", "should match '^#[0-9a-fA-F]{6}$'"],
    ],
    [
      "content page with markdown and a ConfigMap",
      () =>
        set(portal(), "contentPages", [
          { slug: "x", title: "X", markdown: "# x", configMapRef: { name: "c", key: "k" } },
        ]),
      ["set exactly one of markdown and configMapRef"],
    ],
    [
      "chat target without events",
      () =>
        set(portal(), "chat.targets", [
          { name: "t", type: "Slack", webhookUrlSecretRef: { name: "s", key: "k" }, events: [] },
        ]),
      ["spec.chat.targets[0].events", "should have at least 1 items"],
    ],
    [
      "unknown chat type",
      () =>
        set(portal(), "chat.targets", [
          { name: "t", type: "IRC", webhookUrlSecretRef: { name: "s", key: "k" }, events: ["SignedUp"] },
        ]),
      ['Unsupported value: "IRC"'],
    ],
    ["api without routes", () => set(api(), "routes", undefined), ["spec.routes: Required value"]],
    [
      "api with an empty route list",
      () => set(api(), "routes", []),
      ["spec.routes", "should have at least 1 items"],
    ],
    [
      "upstream with url and serviceRef",
      () => set(api(), "upstream.url", "http://orders:8080"),
      ["set exactly one of upstream.url and upstream.serviceRef"],
    ],
    [
      "upstream URL that is not a URL",
      () => set(oauthApi(), "upstream.url", "weather service"),
      ["spec.upstream.url", "should match"],
    ],
    [
      "unknown auth type",
      () => set(api(), "auth.type", "basic"),
      ['spec.auth.type: Unsupported value: "basic"'],
    ],
    [
      "key-auth api without plans",
      () => set(api(), "plans", undefined),
      ["needs at least one plan in plans"],
    ],
    [
      "open api with plans",
      () => set(set(api(), "auth.type", "none"), "auth.keyHeader", undefined),
      ["auth type none is open to everyone and takes no plans"],
    ],
    [
      "scopes on a key-auth api",
      () => set(api(), "auth.scopes", [{ name: "read" }]),
      ["auth.scopes is only used with auth type oauth2"],
    ],
    [
      "route path without a leading slash",
      () => set(api(), "routes", [{ paths: ["orders"] }]),
      ["spec.routes[0].paths[0]", "should match"],
    ],
    [
      "route without paths or hosts",
      () => set(api(), "routes", [{ methods: ["GET"] }]),
      ["a route needs at least one path or one host"],
    ],
    [
      "sunset before deprecation",
      () => set(api(), "deprecation", { since: "2026-06-01T00:00:00Z", sunset: "2026-01-01T00:00:00Z" }),
      ["deprecation.sunset must be later than deprecation.since"],
    ],
    [
      "managed plugin among extra plugins",
      () => set(api(), "plugins", [{ name: "key-auth" }]),
      ["this plugin is managed by wicked"],
    ],
    [
      "service port out of range",
      () => set(api(), "upstream.serviceRef.port", 70000),
      ["spec.upstream.serviceRef.port", "less than or equal to 65535"],
    ],
    [
      "rate limit of zero",
      () => set(plan(), "rateLimits.minute", 0),
      ["spec.rateLimits.minute", "greater than or equal to 1"],
    ],
    [
      "per-second limit above per-minute",
      () => set(set(plan(), "rateLimits.second", 100), "rateLimits.minute", 10),
      ["rateLimits.second must not exceed rateLimits.minute"],
    ],
    [
      "empty rate limits",
      () => set(plan(), "rateLimits", {}),
      ["spec.rateLimits", "should have at least 1 properties"],
    ],
    [
      "approval flag that is not a boolean",
      () => set(plan(), "requiresApproval", "yes"),
      ["spec.requiresApproval", "must be of type boolean"],
    ],
    ["owner that is not an email", () => set(client(), "owner", "dev"), ["spec.owner", "should match"]],
    [
      "public client without redirect URIs",
      () => set(set(client(), "clientType", "public"), "redirectUris", undefined),
      ["a public client needs at least one redirect URI"],
    ],
    [
      "plain-http redirect URI off localhost",
      () => set(client(), "redirectUris", ["http://evil.example.com/cb"]),
      ["spec.redirectUris[0]", "should match"],
    ],
    [
      "unknown collaborator role",
      () => set(client(), "collaborators", [{ user: "a@b.example", role: "Admin" }]),
      ['Unsupported value: "Admin"'],
    ],
    [
      "subscription without plan",
      () => set(subscription(), "planRef", undefined),
      ["spec.planRef: Required value"],
    ],
    [
      "rejection without reason",
      () => set(subscription(), "approval", { decision: "Rejected", decidedBy: "amy" }),
      ["approval.reason must say why"],
    ],
    [
      "approval without approver",
      () => set(subscription(), "approval", { decision: "Approved" }),
      ["approval.decidedBy must name who approved or rejected"],
    ],
    [
      "approval that names no plan",
      () => set(subscription(), "approval", { decision: "Approved", decidedBy: "amy" }),
      ["approval.plan must name the plan the approval is for"],
    ],
    [
      "rotation of a bring-your-own secret",
      () =>
        set(subscription(), "credentials", {
          secretRef: { name: "mine" },
          rotation: { requestedAt: "2026-01-01T00:00:00Z" },
        }),
      ["credentials.rotation only applies to generated credentials"],
    ],
    [
      "negative rotation overlap",
      () =>
        set(subscription(), "credentials", {
          rotation: { requestedAt: "2026-01-01T00:00:00Z", overlapSeconds: -1 },
        }),
      ["overlapSeconds", "greater than or equal to 0"],
    ],
  ];

  it("has at least 20 cases", () => expect(cases.length).toBeGreaterThanOrEqual(20));

  it.each(cases)("%s", (_name, manifest, messages) => {
    const m = manifest();
    m.metadata.name = `invalid-${Math.random().toString(36).slice(2, 8)}`;
    const result = create(m);
    expect(result.code, result.stdout).not.toBe(0);
    expect(result.stderr).toContain(`The ${m.kind} "${m.metadata.name}" is invalid`);
    for (const message of messages) expect(result.stderr).toContain(message);
  });

  it("keeps apiRef from changing", () => {
    const m = set(subscription(), "apiRef", { name: "orders" });
    m.metadata.name = "immutable-ref";
    kubectlOk(kubeconfig, ["create", "-n", namespace, "-f", "-"], JSON.stringify(m));
    const r = kubectl(kubeconfig, [
      "patch",
      "-n",
      namespace,
      "subscription",
      "immutable-ref",
      "--type=merge",
      "-p",
      '{"spec":{"apiRef":{"name":"weather"}}}',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("apiRef cannot change; create a new Subscription");
  });

  it("keeps a rejected subscription rejected", () => {
    const m = set(subscription(), "approval", {
      decision: "Rejected",
      decidedBy: "amy",
      reason: "not a partner",
    });
    m.metadata.name = "rejected";
    kubectlOk(kubeconfig, ["create", "-n", namespace, "-f", "-"], JSON.stringify(m));
    const r = kubectl(kubeconfig, [
      "patch",
      "-n",
      namespace,
      "subscription",
      "rejected",
      "--type=merge",
      "-p",
      '{"spec":{"approval":{"decision":"Approved","reason":null}}}',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("a rejected subscription stays rejected");
  });
});
