/**
 * Support for the chart's and the webhooks' integration tests: the pinned helm, rendering, ServiceAccount
 * kubeconfigs from TokenRequest, a webhook server process, and a recording proxy in front of the apiserver
 * that shows which requests an identity made. Tests only; nothing in the product imports it.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpsRequest, createServer as httpsServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import YAML from "yaml";
import { binaries, freePort, pinnedVersions } from "../../hack/controlplane/controlplane.ts";
import { startTestProcess } from "../../test/support/child-process.ts";
import { kubectlOk, runAsync } from "../../test/support/kubectl.ts";

/** The chart's directory, relative to the repository root (where tests run). */
export const CHART = "charts/wicked";
/** The Kubernetes version helm renders for: the local control plane's (helm assumes 1.20 otherwise). */
export const KUBE_VERSION = (pinnedVersions().KUBERNETES_VERSION ?? "v1.36.3").replace(/^v/, "");

/** What a command printed and how it exited. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

let bin: string | undefined;

function helmEnv(kubeconfig?: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...(kubeconfig ? { KUBECONFIG: kubeconfig } : {}),
    HELM_CACHE_HOME: helmHome("cache"),
    HELM_CONFIG_HOME: helmHome("config"),
    HELM_DATA_HOME: helmHome("data"),
  };
}

/** Runs the pinned helm (against `kubeconfig` when given). */
export function helm(args: string[], kubeconfig?: string): CommandResult {
  bin ??= binaries();
  const r = spawnSync(join(bin, "helm"), args, {
    encoding: "utf8",
    timeout: 180_000,
    maxBuffer: 64 * 1024 * 1024,
    env: helmEnv(kubeconfig),
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Like helmOk, without blocking the event loop (for `--wait` while the test process serves). */
export async function helmAsyncOk(args: string[], kubeconfig: string, timeoutMs = 900_000): Promise<string> {
  bin ??= binaries();
  const r = await runAsync(join(bin, "helm"), args, { timeoutMs, env: helmEnv(kubeconfig) });
  if (r.code !== 0) throw new Error(`helm ${args.join(" ")} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

let home: string | undefined;
/** A private helm home, so tests neither read nor write the user's repositories and plugins. */
function helmHome(kind: string): string {
  home ??= mkdtempSync(join(tmpdir(), "wicked-helm-"));
  return join(home, kind);
}

/** Like helm, but throws with helm's message when it fails. */
export function helmOk(args: string[], kubeconfig?: string): string {
  const r = helm(args, kubeconfig);
  if (r.code !== 0) throw new Error(`helm ${args.join(" ")} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** A rendered manifest. */
// biome-ignore lint/suspicious/noExplicitAny: rendered manifests, read field by field in assertions
export type Manifest = Record<string, any>;

/** `helm template` of the chart with extra arguments, as parsed manifests. */
export function render(args: string[] = [], release = "wicked", namespace = "wicked-system"): Manifest[] {
  const text = helmOk([
    "template",
    release,
    CHART,
    "--namespace",
    namespace,
    "--kube-version",
    KUBE_VERSION,
    ...args,
  ]);
  return YAML.parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null && typeof m === "object" && "kind" in m);
}

/** The one manifest of a kind (and name suffix) in a rendering; throws when there is not exactly one. */
export function pick(manifests: Manifest[], kind: string, nameEnd = ""): Manifest {
  const found = manifests.filter((m) => m.kind === kind && String(m.metadata?.name ?? "").endsWith(nameEnd));
  if (found.length !== 1) throw new Error(`expected one ${kind} named *${nameEnd}, found ${found.length}`);
  return found[0] as Manifest;
}

/** The server URL and CA (base64 PEM) of the admin kubeconfig's cluster. */
export function clusterOf(kubeconfig: string): { server: string; caData: string } {
  const config = JSON.parse(readFileSync(kubeconfig, "utf8")) as {
    clusters: Array<{ cluster: { server: string; "certificate-authority-data": string } }>;
  };
  const cluster = config.clusters[0]?.cluster;
  if (!cluster) throw new Error(`${kubeconfig} names no cluster`);
  return { server: cluster.server, caData: cluster["certificate-authority-data"] };
}

/**
 * A kubeconfig that authenticates as a ServiceAccount with a token from the TokenRequest API (`kubectl
 * create token`), to `server` with CA `caData` (the apiserver's own unless a proxy is in between).
 */
export function serviceAccountKubeconfig(
  adminKubeconfig: string,
  namespace: string,
  serviceAccount: string,
  via?: { server: string; caData: string },
): string {
  const token = kubectlOk(adminKubeconfig, [
    "create",
    "token",
    serviceAccount,
    "-n",
    namespace,
    "--duration=2h",
  ]).trim();
  const { server, caData } = via ?? clusterOf(adminKubeconfig);
  const file = join(mkdtempSync(join(tmpdir(), "wicked-sa-")), "kubeconfig");
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster: { server, "certificate-authority-data": caData } }],
      users: [{ name: serviceAccount, user: { token } }],
      contexts: [{ name: "c", context: { cluster: "c", user: serviceAccount, namespace } }],
      "current-context": "c",
    }),
    { mode: 0o600 },
  );
  return file;
}

/** A self-signed certificate for 127.0.0.1 made with the openssl CLI (node:crypto cannot make X.509). */
export function selfSignedCertificate(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), "wicked-cert-"));
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-days",
      "1",
      "-keyout",
      join(dir, "tls.key"),
      "-out",
      join(dir, "tls.crt"),
    ],
    { stdio: "ignore" },
  );
  return {
    cert: readFileSync(join(dir, "tls.crt"), "utf8"),
    key: readFileSync(join(dir, "tls.key"), "utf8"),
  };
}

/**
 * Values that make a release's webhooks call a server outside the cluster on 127.0.0.1:`port` (started with
 * startWebhookProcess) and apply only to namespaces carrying the `selector` labels.
 */
export function localWebhookValues(port: number, selector: Record<string, string>): string[] {
  return [
    "--set",
    `webhooks.url=https://127.0.0.1:${port}`,
    "--set",
    "webhooks.certificate.extraIPAddresses[0]=127.0.0.1",
    "--set-json",
    `webhooks.namespaceSelector=${JSON.stringify({ matchLabels: selector })}`,
  ];
}

/** A running `wicked webhooks` process. */
export interface WebhookProcess {
  url: string;
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Starts the webhook server as its own process (as in its Deployment, and so that kubectl, which the tests
 * run synchronously, never blocks the server), serving the certificate in `certDir` on `port`.
 */
export async function startWebhookProcess(
  kubeconfig: string,
  certDir: string,
  port: number,
  logLevel = "debug",
): Promise<WebhookProcess> {
  const child = await startTestProcess({
    what: "the webhook server",
    args: ["bin/wicked.ts", "webhooks"],
    env: {
      KUBECONFIG: kubeconfig,
      WICKED_WEBHOOK_PORT: String(port),
      WICKED_WEBHOOK_BIND_ADDRESS: "127.0.0.1",
      WICKED_WEBHOOK_CERT_DIR: certDir,
      WICKED_WEBHOOK_CERT_RELOAD_SECONDS: "1",
      WICKED_LOG_LEVEL: logLevel,
    },
    ready: (output) => output.includes("Started webhook server"),
    timeoutMs: 60_000,
  });
  return { url: `https://127.0.0.1:${port}`, logs: child.logs, stop: child.stop };
}

/** One request that passed through the recording proxy. */
export interface RecordedRequest {
  method: string;
  /** Path and query. */
  url: string;
  /** The apiserver's answer. */
  status: number;
}

/** A TLS proxy in front of the apiserver that records every request and its answer. */
export interface RecordingProxy {
  server: string;
  /** The proxy's certificate as base64 PEM, for a kubeconfig's certificate-authority-data. */
  caData: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Starts a RecordingProxy forwarding to the cluster of `adminKubeconfig` (with the client's own token). */
export async function startRecordingProxy(adminKubeconfig: string): Promise<RecordingProxy> {
  const target = clusterOf(adminKubeconfig);
  const upstream = new URL(target.server);
  const ca = Buffer.from(target.caData, "base64");
  const tls = selfSignedCertificate();
  const requests: RecordedRequest[] = [];
  const server: Server = httpsServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const forwarded = httpsRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
        ca,
      },
      (answer) => {
        requests.push({ method: req.method ?? "", url: req.url ?? "", status: answer.statusCode ?? 0 });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on("error", (err) => {
      requests.push({ method: req.method ?? "", url: req.url ?? "", status: 0 });
      if (!res.headersSent) res.writeHead(502);
      res.end(String(err));
    });
    res.on("close", () => forwarded.destroy());
    req.pipe(forwarded);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    caData: Buffer.from(tls.cert).toString("base64"),
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The RBAC request attributes of an apiserver request, or undefined for a non-resource URL (discovery). */
export interface RequestAttributes {
  group: string;
  resource: string;
  verb: string;
  namespace: string;
  name?: string;
}

/** Maps a method and URL to RBAC attributes the way the apiserver's request-info resolver does. */
export function requestAttributes(method: string, url: string): RequestAttributes | undefined {
  const parsed = new URL(url, "https://apiserver");
  const parts = parsed.pathname.split("/").filter(Boolean);
  let rest: string[];
  let group: string;
  if (parts[0] === "api" && parts.length >= 3) {
    group = "";
    rest = parts.slice(2);
  } else if (parts[0] === "apis" && parts.length >= 4) {
    group = parts[1] ?? "";
    rest = parts.slice(3);
  } else return undefined;
  let namespace = "";
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespace = rest[1] ?? "";
    rest = rest.slice(2);
  }
  const [resource, name, subresource] = rest;
  if (!resource) return undefined;
  const watch = ["true", "1"].includes(parsed.searchParams.get("watch") ?? "");
  const verb =
    method === "GET"
      ? name
        ? "get"
        : watch
          ? "watch"
          : "list"
      : method === "POST"
        ? "create"
        : method === "PUT"
          ? "update"
          : method === "PATCH"
            ? "patch"
            : method === "DELETE"
              ? name
                ? "delete"
                : "deletecollection"
              : method.toLowerCase();
  return {
    group,
    resource: subresource ? `${resource}/${subresource}` : resource,
    verb,
    namespace,
    ...(name ? { name } : {}),
  };
}

/** Writes the webhook serving certificate a release generated (tls.crt, tls.key) into `dir`; returns tls.crt. */
export function writeWebhookCertificate(
  kubeconfig: string,
  release: string,
  namespace: string,
  dir: string,
): string {
  const secret = JSON.parse(
    kubectlOk(kubeconfig, ["get", "secret", `${release}-wicked-webhooks-tls`, "-n", namespace, "-o", "json"]),
  );
  for (const file of ["tls.crt", "tls.key"])
    writeFileSync(join(dir, file), Buffer.from(secret.data[file], "base64"));
  return Buffer.from(secret.data["tls.crt"], "base64").toString();
}
