/**
 * How the runtime reaches the apiserver: its URL and, for each request, the TLS settings and credentials of
 * a kubeconfig's current context or of the pod's service account.
 *
 * Not @kubernetes/client-node's KubeConfig: importing that module loads the client's whole generated API,
 * about 80 MiB of the operator's resident memory (docs/performance.md). What a kubeconfig can say is covered
 * except what the apiserver or kubectl retired: credentials by token, token file, client certificate and
 * exec plugin (client.authentication.k8s.io); CA by file or data, insecure-skip-tls-verify, tls-server-name.
 * `auth-provider`, basic auth and `proxy-url` are refused with a message that says what to use instead.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { promisify } from "node:util";
import { parse as parseYaml } from "yaml";

/** TLS settings and credentials for one request. */
export interface Connection {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly servername?: string;
  readonly rejectUnauthorized: boolean;
  /** The Authorization header, when the credential is a bearer token. */
  readonly authorization?: string;
}

/** An apiserver and the credentials to talk to it. */
export interface ClusterAccess {
  /** The apiserver's base URL, without a trailing slash. */
  readonly server: string;
  /** The connection settings for the next request: rotated tokens and certificates are picked up. */
  connection(): Promise<Connection>;
}

/** Files (service account tokens, certificates) are read again at most this often, so rotation is seen. */
const FILE_REFRESH_MS = 60_000;
/** An exec plugin's credential without an expiry is used this long before the plugin runs again. */
const EXEC_DEFAULT_LIFETIME_MS = 5 * 60_000;
/** An exec plugin's credential is renewed this long before it expires. */
const EXEC_RENEW_BEFORE_MS = 10_000;

const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The access a process should use: the kubeconfig file when one is named, else the pod's service account. */
export function loadClusterAccess(
  kubeconfig: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ClusterAccess {
  if (kubeconfig) return kubeconfigAccess(kubeconfig);
  if (env.KUBERNETES_SERVICE_HOST) return inClusterAccess(env);
  throw new Error(
    "No Kubernetes API to talk to: set KUBECONFIG, or run in a pod (in-cluster service account)",
  );
}

/** The pod's service account: the apiserver's Service address, its CA and the projected token. */
export function inClusterAccess(
  env: NodeJS.ProcessEnv = process.env,
  dir = SERVICE_ACCOUNT_DIR,
): ClusterAccess {
  const host = env.KUBERNETES_SERVICE_HOST ?? "";
  const port = env.KUBERNETES_SERVICE_PORT ?? "443";
  const ca = readFileSync(join(dir, "ca.crt"));
  const token = refreshedFile(join(dir, "token"));
  return {
    server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    connection: async () => ({
      ca,
      rejectUnauthorized: true,
      authorization: `Bearer ${token().toString("utf8").trim()}`,
    }),
  };
}

type Yaml = Record<string, unknown>;

/** The current context of a kubeconfig file (one file; KUBECONFIG lists are not merged). */
export function kubeconfigAccess(path: string): ClusterAccess {
  const fail = (message: string): never => {
    throw new Error(`kubeconfig ${path}: ${message}`);
  };
  let doc: Yaml;
  try {
    doc = (parseYaml(readFileSync(path, "utf8")) ?? {}) as Yaml;
  } catch (err) {
    return fail(`cannot be read: ${(err as Error).message}`);
  }
  const named = (list: string, name: unknown, field: string): Yaml => {
    const entries = Array.isArray(doc[list]) ? (doc[list] as Yaml[]) : [];
    const entry = entries.find((e) => e?.name === name)?.[field];
    return typeof entry === "object" && entry !== null
      ? (entry as Yaml)
      : fail(`no ${field} named "${name}"`);
  };
  const current = doc["current-context"] || fail("no current-context; run kubectl config use-context");
  const context = named("contexts", current, "context");
  const cluster = named("clusters", context.cluster, "cluster");
  const user = context.user === undefined ? {} : named("users", context.user, "user");
  const base = dirname(path);
  const file = (p: unknown) => (isAbsolute(String(p)) ? String(p) : join(base, String(p)));
  const bytes = (dataField: string, fileField: string, from: Yaml): (() => Buffer) | undefined => {
    if (from[dataField]) {
      const data = Buffer.from(String(from[dataField]), "base64");
      return () => data;
    }
    return from[fileField] ? refreshedFile(file(from[fileField])) : undefined;
  };

  const server =
    typeof cluster.server === "string" && cluster.server !== ""
      ? cluster.server
      : fail(`cluster "${context.cluster}" has no server`);
  if (cluster["proxy-url"]) fail("proxy-url is not supported; reach the apiserver directly");
  if (user["auth-provider"])
    fail(
      `user "${context.user}" uses the retired auth-provider "${(user["auth-provider"] as Yaml).name}"; use an exec credential plugin`,
    );
  if (user.username || user.password)
    fail(`user "${context.user}" uses basic auth, which Kubernetes removed`);

  const ca = bytes("certificate-authority-data", "certificate-authority", cluster);
  const cert = bytes("client-certificate-data", "client-certificate", user);
  const key = bytes("client-key-data", "client-key", user);
  const tokenFile = user.tokenFile ? refreshedFile(file(user.tokenFile)) : undefined;
  const exec = user.exec ? execPlugin(user.exec as Yaml, base, fail) : undefined;
  const tls = {
    rejectUnauthorized: cluster["insecure-skip-tls-verify"] !== true,
    ...(typeof cluster["tls-server-name"] === "string" ? { servername: cluster["tls-server-name"] } : {}),
  };
  return {
    server: server.replace(/\/+$/, ""),
    async connection() {
      const plugin = exec ? await exec() : {};
      const token = plugin.token ?? (tokenFile ? tokenFile().toString("utf8").trim() : user.token);
      const clientCert = plugin.cert ?? cert?.();
      const clientKey = plugin.key ?? key?.();
      const caBytes = ca?.();
      return {
        ...tls,
        ...(caBytes ? { ca: caBytes } : {}),
        ...(clientCert && clientKey ? { cert: clientCert, key: clientKey } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      };
    },
  };
}

/** A file's content, read again once FILE_REFRESH_MS have passed. */
function refreshedFile(path: string): () => Buffer {
  let content = readFileSync(path);
  let readAt = Date.now();
  return () => {
    if (Date.now() - readAt >= FILE_REFRESH_MS) {
      content = readFileSync(path);
      readAt = Date.now();
    }
    return content;
  };
}

interface ExecCredential {
  token?: string;
  cert?: Buffer;
  key?: Buffer;
}

/**
 * A client-go credential plugin (`users[].user.exec`): runs the command, reads the ExecCredential it prints
 * and keeps it until shortly before its expirationTimestamp. Runs are not concurrent.
 */
function execPlugin(
  spec: Yaml,
  base: string,
  fail: (message: string) => never,
): () => Promise<ExecCredential> {
  const command = typeof spec.command === "string" ? spec.command : fail("exec has no command");
  const resolved = command.includes("/") && !isAbsolute(command) ? join(base, command) : command;
  const args = Array.isArray(spec.args) ? spec.args.map(String) : [];
  const env = Object.fromEntries(
    (Array.isArray(spec.env) ? (spec.env as Yaml[]) : []).map((e) => [String(e.name), String(e.value)]),
  );
  const apiVersion = String(spec.apiVersion ?? "client.authentication.k8s.io/v1");
  let cached: { credential: ExecCredential; until: number } | undefined;
  let running: Promise<ExecCredential> | undefined;
  const run = async (): Promise<ExecCredential> => {
    const { stdout } = await promisify(execFile)(resolved, args, {
      env: {
        ...process.env,
        ...env,
        KUBERNETES_EXEC_INFO: JSON.stringify({
          apiVersion,
          kind: "ExecCredential",
          spec: { interactive: false },
        }),
      },
      timeout: 60_000,
    }).catch((err: Error) => fail(`the exec plugin ${command} failed: ${err.message}`));
    let status: Yaml;
    try {
      status = (JSON.parse(stdout) as { status?: Yaml }).status ?? {};
    } catch {
      return fail(`the exec plugin ${command} printed no ExecCredential`);
    }
    const credential: ExecCredential = {
      ...(typeof status.token === "string" ? { token: status.token } : {}),
      ...(typeof status.clientCertificateData === "string" && typeof status.clientKeyData === "string"
        ? { cert: Buffer.from(status.clientCertificateData), key: Buffer.from(status.clientKeyData) }
        : {}),
    };
    const expires = Date.parse(String(status.expirationTimestamp ?? ""));
    cached = {
      credential,
      until: Number.isNaN(expires) ? Date.now() + EXEC_DEFAULT_LIFETIME_MS : expires - EXEC_RENEW_BEFORE_MS,
    };
    return credential;
  };
  return async () => {
    if (cached && Date.now() < cached.until) return cached.credential;
    running ??= run().finally(() => {
      running = undefined;
    });
    return running;
  };
}
