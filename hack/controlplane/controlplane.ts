/**
 * The local control plane: etcd, kube-apiserver and kube-controller-manager built by build.sh, started on
 * loopback with free ports. Used by the integration tests, `make controlplane-up` and `make dev`.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { request } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** The non-admin identity in the user kubeconfig; RBAC grants it nothing until a test does. */
export const PLAIN_USER = "jane@example.com";

/** A running control plane. */
export interface ControlPlane {
  /** Directory holding the kubeconfigs, keys, logs and etcd data. */
  dir: string;
  /** Kubeconfig of an admin (group system:masters); its current context is the admin's. */
  kubeconfig: string;
  /** Kubeconfig of PLAIN_USER, who has no RBAC grants. */
  userKubeconfig: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** Process ids, so another process can stop a detached control plane. */
  pids: number[];
  /** Stops the processes (apiserver and controller-manager first, etcd last) and removes dir unless kept. */
  stop(): Promise<void>;
}

/** Options of startControlPlane. */
export interface StartOptions {
  /** Directory to use; a new temporary directory by default (removed on stop). */
  dir?: string;
  /** Keep running after this process exits (for `make controlplane-up`). */
  detached?: boolean;
  /** Serve a real node (hack/cluster) instead of only the tests on loopback. */
  node?: NodeMode;
}

/**
 * How the control plane differs when a kubelet joins it: pods must reach the apiserver (through the
 * `kubernetes` Service), so it listens on a node address instead of loopback; Pods get service account
 * tokens (the ServiceAccount admission plugin, the root CA published by the controller-manager); the node
 * components authenticate as their own users (the kubelet through the Node authorizer); and the
 * controller-manager runs every default controller (deployments, replica sets, endpoint slices, jobs, …).
 */
export interface NodeMode {
  /** A local address reachable from pods: the apiserver binds and advertises it. */
  address: string;
  /** The Service cluster IP range; its first address is the `kubernetes` Service. */
  serviceCidr: string;
  /** The node's name: its kubelet authenticates as system:node:<name>. */
  nodeName: string;
}

/** Kubeconfigs of the node components, written into the control plane's directory in node mode. */
export const NODE_COMPONENT_USERS = {
  kubelet: (nodeName: string) => ({ user: `system:node:${nodeName}`, groups: "system:nodes" }),
  "kube-proxy": () => ({ user: "system:kube-proxy", groups: "" }),
  "kube-scheduler": () => ({ user: "system:kube-scheduler", groups: "" }),
} as const;

/** Where the kubeconfig of a node component is, in node mode. */
export function nodeComponentKubeconfig(dir: string, component: keyof typeof NODE_COMPONENT_USERS): string {
  return join(dir, `${component}.kubeconfig`);
}

/** Reads the pinned versions from versions.env. */
export function pinnedVersions(): Record<string, string> {
  const env = readFileSync(join(here, "versions.env"), "utf8");
  return Object.fromEntries(
    env
      .split("\n")
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => l.split("=", 2) as [string, string]),
  );
}

/** Builds the binaries if they are not cached yet and returns their directory. */
export function binaries(): string {
  return execFileSync(join(here, "build.sh"), {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Renders a kubeconfig for bearer-token users of one cluster; the first user's context is current. */
export function renderKubeconfig(
  server: string,
  caData: string,
  users: Array<{ name: string; token: string }>,
): string {
  const first = users[0];
  if (!first) throw new Error("renderKubeconfig needs at least one user");
  return JSON.stringify(
    {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "wicked-local", cluster: { server, "certificate-authority-data": caData } }],
      users: users.map((u) => ({ name: u.name, user: { token: u.token } })),
      contexts: users.map((u) => ({
        name: u.name,
        context: { cluster: "wicked-local", user: u.name, namespace: "default" },
      })),
      "current-context": first.name,
    },
    null,
    2,
  );
}

export function startProcess(bin: string, args: string[], logFile: string, detached: boolean): ChildProcess {
  const log = openSync(logFile, "a");
  const child = spawn(bin, args, { stdio: ["ignore", log, log], detached });
  closeSync(log);
  if (detached) child.unref();
  return child;
}

/**
 * A shell, detached from this process, that stops the control plane once this process is gone, even after
 * a SIGKILL that left no time for stop(); with `dir`, it also removes the directory.
 */
function startWatchdog(pids: number[], dir: string | undefined): ChildProcess {
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done
kill ${pids.join(" ")} 2>/dev/null; sleep 5; kill -9 ${pids.join(" ")} 2>/dev/null
${dir ? `rm -rf '${dir}'` : ""}`;
  const child = spawn("sh", ["-c", script], { detached: true, stdio: "ignore" });
  child.unref();
  return child;
}

function logTail(file: string): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-15).join("\n");
  } catch {
    return "(no log)";
  }
}

async function httpsStatus(url: string, token: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      url,
      { headers: { Authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: 2000 },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", () => resolve(0));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  child: ChildProcess,
  logFile: string,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${what} exited with code ${child.exitCode}; its log ends with:\n${logTail(logFile)}`);
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `${what} did not become ready within ${timeoutMs / 1000}s; its log ends with:\n${logTail(logFile)}`,
  );
}

async function stopProcess(child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** Starts etcd, kube-apiserver and kube-controller-manager and waits until the apiserver is ready. */
export async function startControlPlane(options: StartOptions = {}): Promise<ControlPlane> {
  const bin = binaries();
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "wicked-controlplane-"));
  const detached = options.detached ?? false;
  mkdirSync(dir, { recursive: true });
  const node = options.node;
  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const adminToken = randomBytes(24).toString("hex");
  const userToken = randomBytes(24).toString("hex");
  const componentTokens = node
    ? Object.entries(NODE_COMPONENT_USERS).map(([component, who]) => ({
        component: component as keyof typeof NODE_COMPONENT_USERS,
        ...who(node.nodeName),
        token: randomBytes(24).toString("hex"),
      }))
    : [];
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  writeFileSync(join(dir, "service-account.key"), privateKey.export({ type: "pkcs8", format: "pem" }), {
    mode: 0o600,
  });
  writeFileSync(
    join(dir, "tokens.csv"),
    [
      `${adminToken},wicked-admin,wicked-admin,"system:masters"`,
      `${userToken},${PLAIN_USER},jane,"wicked:developers"`,
      ...componentTokens.map((c) => `${c.token},${c.user},${c.user},"${c.groups}"`),
    ].join("\n") + "\n",
    { mode: 0o600 },
  );
  const children: ChildProcess[] = [];
  let watchdog: ChildProcess | undefined;
  const stop = async () => {
    watchdog?.kill("SIGKILL");
    for (const child of [...children].reverse()) await stopProcess(child);
    if (!options.dir) rmSync(dir, { recursive: true, force: true });
  };

  try {
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const etcdLog = join(dir, "etcd.log");
    const etcd = startProcess(
      join(bin, "etcd"),
      [
        "--name=wicked",
        `--data-dir=${join(dir, "etcd")}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=wicked=http://127.0.0.1:${peerPort}`,
        "--unsafe-no-fsync",
        "--log-level=warn",
      ],
      etcdLog,
      detached,
    );
    children.push(etcd);
    await waitUntil(
      "etcd",
      async () => (await fetch(`${etcdUrl}/health`).catch(() => undefined))?.ok === true,
      etcd,
      etcdLog,
      30_000,
    );

    const address = node?.address ?? "127.0.0.1";
    const server = `https://${address}:${apiPort}`;
    const apiLog = join(dir, "kube-apiserver.log");
    const key = join(dir, "service-account.key");
    const apiserver = startProcess(
      join(bin, "kube-apiserver"),
      [
        `--etcd-servers=${etcdUrl}`,
        `--cert-dir=${join(dir, "certs")}`,
        `--secure-port=${apiPort}`,
        `--bind-address=${address}`,
        `--advertise-address=${address}`,
        `--service-cluster-ip-range=${node?.serviceCidr ?? "10.0.0.0/24"}`,
        ...(node
          ? [
              "--authorization-mode=Node,RBAC",
              "--enable-admission-plugins=NodeRestriction",
              // The node's name is not in any DNS the apiserver asks; its address is.
              "--kubelet-preferred-address-types=InternalIP",
            ]
          : ["--disable-admission-plugins=ServiceAccount", "--authorization-mode=RBAC"]),
        `--token-auth-file=${join(dir, "tokens.csv")}`,
        `--service-account-issuer=${server}`,
        `--service-account-key-file=${key}`,
        `--service-account-signing-key-file=${key}`,
        "--allow-privileged=true",
        "--v=1",
      ],
      apiLog,
      detached,
    );
    children.push(apiserver);
    await waitUntil(
      "kube-apiserver",
      async () => (await httpsStatus(`${server}/readyz`, adminToken)) === 200,
      apiserver,
      apiLog,
      90_000,
    );

    const caData = Buffer.from(readFileSync(join(dir, "certs", "apiserver.crt"))).toString("base64");
    const kubeconfig = join(dir, "kubeconfig");
    const userKubeconfig = join(dir, "user.kubeconfig");
    writeFileSync(
      kubeconfig,
      renderKubeconfig(server, caData, [
        { name: "wicked-admin", token: adminToken },
        { name: "wicked-user", token: userToken },
      ]),
      { mode: 0o600 },
    );
    writeFileSync(
      userKubeconfig,
      renderKubeconfig(server, caData, [{ name: "wicked-user", token: userToken }]),
      { mode: 0o600 },
    );
    for (const c of componentTokens)
      writeFileSync(
        nodeComponentKubeconfig(dir, c.component),
        renderKubeconfig(server, caData, [{ name: c.user, token: c.token }]),
        { mode: 0o600 },
      );

    const kcmLog = join(dir, "kube-controller-manager.log");
    const kcm = startProcess(
      join(bin, "kube-controller-manager"),
      [
        `--kubeconfig=${kubeconfig}`,
        ...(node
          ? ["--controllers=*", `--root-ca-file=${join(dir, "certs", "apiserver.crt")}`]
          : ["--controllers=garbage-collector-controller,namespace-controller,serviceaccount-controller"]),
        "--leader-elect=false",
        `--service-account-private-key-file=${key}`,
        "--use-service-account-credentials=false",
        "--secure-port=0",
        "--concurrent-gc-syncs=20",
        "--v=1",
      ],
      kcmLog,
      detached,
    );
    children.push(kcm);
    await new Promise((r) => setTimeout(r, 300));
    if (kcm.exitCode !== null)
      throw new Error(`kube-controller-manager exited at start; its log ends with:\n${logTail(kcmLog)}`);

    const pids = children.map((c) => c.pid ?? 0);
    if (!detached) watchdog = startWatchdog(pids, options.dir ? undefined : dir);
    writeFileSync(
      join(dir, "state.json"),
      JSON.stringify({ pids, kubeconfig, userKubeconfig, server }, null, 2),
    );
    return { dir, kubeconfig, userKubeconfig, server, pids, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Where a detached control plane is and how to reach it, as saved in its state.json. */
export type DetachedControlPlane = Pick<ControlPlane, "kubeconfig" | "userKubeconfig" | "server" | "pids">;

/** Whether a process with this id exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readState(dir: string): DetachedControlPlane | undefined {
  const file = join(dir, "state.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as DetachedControlPlane) : undefined;
}

/** Stops a process that is not our child: SIGTERM, then SIGKILL after `timeoutMs`. */
export async function stopPid(pid: number, timeoutMs = 10_000): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < timeoutMs / 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, "SIGKILL");
}

/** Stops the control plane kept in dir by ensureDetachedControlPlane and removes dir. */
export async function stopDetachedControlPlane(dir: string): Promise<void> {
  for (const pid of [...(readState(dir)?.pids ?? [])].reverse()) await stopPid(pid);
  rmSync(dir, { recursive: true, force: true });
}

/** The control plane running in dir, when every one of its processes is alive. */
export function runningControlPlane(dir: string): DetachedControlPlane | undefined {
  const state = readState(resolve(dir));
  return state?.pids.every(alive) ? state : undefined;
}

/** Reuses the control plane running in dir, or starts one there that outlives this process. */
export async function ensureDetachedControlPlane(dir: string): Promise<DetachedControlPlane> {
  const absolute = resolve(dir);
  const running = runningControlPlane(absolute);
  if (running) return running;
  await stopDetachedControlPlane(absolute);
  return startControlPlane({ dir: absolute, detached: true });
}
