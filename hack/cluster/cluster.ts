/**
 * A real single-node Kubernetes cluster on this machine, as kind runs one inside its container: the local
 * control plane (node mode), containerd and runc from Debian, a bridge CNI, and the kubelet, kube-proxy,
 * kube-scheduler and CoreDNS built from Go modules (build.sh). It outlives the process that started it; its
 * state (processes, kubeconfigs, logs) is kept in one directory. One per machine: it owns fixed addresses,
 * ports, a bridge and iptables chains. Needs root.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  alive,
  binaries as controlPlaneBinaries,
  nodeComponentKubeconfig,
  startControlPlane,
  startProcess,
  stopPid,
  waitUntil,
} from "../controlplane/controlplane.ts";
import {
  cniConfig,
  containerdConfig,
  corefile,
  kubeletConfig,
  kubeProxyConfig,
  NODE,
  type NodeLayout,
  nodeLayout,
} from "./config.ts";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");

/** Debian's CNI plugins (package containernetworking-plugins). */
const CNI_BIN_DIR = "/usr/lib/cni";
/** The sandbox image, built locally by hack/images (no registry is reachable). */
export const PAUSE_IMAGE = "localhost/wicked-base/pause:1";
/** Available volumes kept in the node's pool (hostPath PersistentVolumes of the default StorageClass). */
const VOLUME_POOL = 6;

/** A running cluster, as kept in its state.json. */
export interface Cluster {
  /** Admin kubeconfig. */
  kubeconfig: string;
  /** Kubeconfig of a user without RBAC grants. */
  userKubeconfig: string;
  /** https://<node address>:<port> */
  server: string;
  /** The node's address: pods reach the machine's own listeners on it. */
  nodeAddress: string;
  /** containerd's socket, for loading images. */
  containerdSocket: string;
  /** The processes, in start order (stopped in reverse, the kubelet first). */
  processes: Array<{ name: string; pid: number }>;
}

/** The node's binaries (kubelet, kube-scheduler, kube-proxy, coredns, crictl), built once and cached. */
export function nodeBinaries(): string {
  return execFileSync(join(here, "build.sh"), {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
}

function readState(dir: string): Cluster | undefined {
  const file = join(dir, "state.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Cluster) : undefined;
}

function run(cmd: string, args: string[], options: { ignoreFailure?: boolean; input?: string } = {}): string {
  const result = spawnSync(cmd, args, { encoding: "utf8", input: options.input, timeout: 120_000 });
  if (result.status !== 0 && !options.ignoreFailure)
    throw new Error(`${cmd} ${args.join(" ")} failed: ${result.stderr || result.stdout || result.error}`);
  return result.stdout ?? "";
}

function requireMachine(): void {
  if (process.getuid?.() !== 0)
    throw new Error("The node runs containers, a bridge and iptables rules: run it as root.");
  const missing = [
    ["containerd", "/usr/bin/containerd"],
    ["runc", "/usr/sbin/runc"],
    ["containernetworking-plugins", join(CNI_BIN_DIR, "bridge")],
    ["iptables", "/usr/sbin/iptables"],
    ["conntrack", "/usr/sbin/conntrack"],
    ["podman", "/usr/bin/podman"],
    ["debootstrap", "/usr/sbin/debootstrap"],
  ].filter(([, path]) => !existsSync(path as string));
  if (missing.length > 0)
    throw new Error(
      `The node needs Debian packages that are not installed: apt-get install ${missing.map(([p]) => p).join(" ")}`,
    );
}

/** Kubelets of a node this directory does not hold (another checkout's): the machine-wide parts are theirs. */
function otherNodeKubelets(dir: string): number[] {
  const ours = new Set((readState(resolve(dir))?.processes ?? []).map((p) => p.pid));
  return run("pgrep", ["-f", `kubelet .*--hostname-override=${NODE.name}`], { ignoreFailure: true })
    .split("\n")
    .filter(Boolean)
    .map(Number)
    .filter((pid) => !ours.has(pid));
}

/** The cluster running in dir, when every one of its processes is alive. */
export function runningCluster(dir: string): Cluster | undefined {
  const state = readState(resolve(dir));
  return state?.processes?.length && state.processes.every((p) => alive(p.pid)) ? state : undefined;
}

/** Reuses the cluster running in dir, or starts one there (stopping the remains of an earlier one first). */
export async function ensureCluster(dir: string): Promise<Cluster> {
  const running = runningCluster(dir);
  if (running) {
    refillVolumePool(resolve(dir), running.kubeconfig);
    return running;
  }
  const other = otherNodeKubelets(dir);
  if (other.length > 0)
    throw new Error(
      `A node of another checkout runs on this machine (kubelet pid ${other.join(", ")}); there is one per machine: stop it with \`make cluster-down\` there, or point KUBECONFIG at it`,
    );
  await stopCluster(dir);
  return startCluster(resolve(dir));
}

async function startCluster(dir: string): Promise<Cluster> {
  requireMachine();
  const cpBin = controlPlaneBinaries();
  const nodeBin = nodeBinaries();
  const cache = process.env.WICKED_CACHE ?? join(homedir(), ".cache", "wicked");
  const layout = nodeLayout(dir, join(cache, "cluster", "containerd"));
  for (const d of [
    dirname(layout.containerd.config),
    layout.cni.confDir,
    layout.kubelet.root,
    layout.volumes,
  ])
    mkdirSync(d, { recursive: true });
  const log = (name: string) => join(dir, `${name}.log`);
  const processes: Cluster["processes"] = [];
  const start = (name: string, bin: string, args: string[]) => {
    const child = startProcess(bin, args, log(name), true);
    processes.push({ name, pid: child.pid ?? 0 });
    return child;
  };

  try {
    run("ip", ["addr", "replace", `${NODE.address}/32`, "dev", "lo"]);
    run("sysctl", ["-qw", "net.ipv4.ip_forward=1"]);
    if (existsSync("/proc/sys/net/bridge/bridge-nf-call-iptables"))
      run("sysctl", ["-qw", "net.bridge.bridge-nf-call-iptables=1"]);

    const cp = await startControlPlane({
      dir: join(dir, "controlplane"),
      detached: true,
      node: { address: NODE.address, serviceCidr: NODE.serviceCidr, nodeName: NODE.name },
    });
    processes.push(...cp.pids.map((pid, i) => ({ name: `controlplane-${i}`, pid })));
    const componentKubeconfig = (c: Parameters<typeof nodeComponentKubeconfig>[1]) =>
      nodeComponentKubeconfig(cp.dir, c);

    writeFileSync(layout.containerd.config, containerdConfig(layout, PAUSE_IMAGE, CNI_BIN_DIR));
    writeFileSync(join(layout.cni.confDir, "10-wicked.conflist"), cniConfig(layout));
    const containerd = start("containerd", "containerd", ["--config", layout.containerd.config]);
    await waitUntil(
      "containerd",
      async () => spawnSync("ctr", ["--address", layout.containerd.socket, "version"]).status === 0,
      containerd,
      log("containerd"),
      30_000,
    );
    loadImages(layout.containerd.socket, [buildImage("pause")]);

    writeFileSync(layout.kubeProxyConfig, kubeProxyConfig(componentKubeconfig("kube-proxy")));
    writeFileSync(layout.corefile, corefile(cp.kubeconfig));
    writeFileSync(layout.kubelet.config, kubeletConfig(layout));
    const node: Array<[string, string[]]> = [
      [
        "kubelet",
        [
          `--config=${layout.kubelet.config}`,
          `--kubeconfig=${componentKubeconfig("kubelet")}`,
          `--root-dir=${layout.kubelet.root}`,
          `--cert-dir=${join(dir, "kubelet", "certs")}`,
          `--hostname-override=${NODE.name}`,
          `--node-ip=${NODE.address}`,
          "--v=1",
        ],
      ],
      ["kube-proxy", [`--config=${layout.kubeProxyConfig}`, "--v=1"]],
      [
        "kube-scheduler",
        [
          `--kubeconfig=${componentKubeconfig("kube-scheduler")}`,
          `--authentication-kubeconfig=${componentKubeconfig("kube-scheduler")}`,
          `--authorization-kubeconfig=${componentKubeconfig("kube-scheduler")}`,
          "--leader-elect=false",
          "--bind-address=127.0.0.1",
          "--secure-port=10259",
          "--v=1",
        ],
      ],
      ["coredns", ["-conf", layout.corefile, "-dns.port", "53"]],
    ];
    const [kubelet] = node.map(([name, args]) => start(name, join(nodeBin, name), args));
    if (!kubelet) throw new Error("the node has no kubelet");
    await waitUntil(
      `node ${NODE.name}`,
      async () =>
        spawnSync(join(cpBin, "kubectl"), [
          `--kubeconfig=${cp.kubeconfig}`,
          "get",
          "node",
          NODE.name,
          "-o",
          'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
        ]).stdout?.toString() === "True",
      kubelet,
      log("kubelet"),
      120_000,
    );
    refillVolumePool(dir, cp.kubeconfig);

    const cluster: Cluster = {
      kubeconfig: cp.kubeconfig,
      userKubeconfig: cp.userKubeconfig,
      server: cp.server,
      nodeAddress: NODE.address,
      containerdSocket: layout.containerd.socket,
      processes,
    };
    writeFileSync(join(dir, "state.json"), JSON.stringify(cluster, null, 2));
    return cluster;
  } catch (err) {
    writeFileSync(join(dir, "state.json"), JSON.stringify({ processes }));
    await stopCluster(dir).catch(() => undefined);
    throw err;
  }
}

/**
 * Keeps VOLUME_POOL volumes of the default StorageClass available: volumes released by a deleted claim are
 * deleted with their data and made anew, as a provisioner with reclaim policy Delete would.
 */
function refillVolumePool(dir: string, kubeconfig: string): void {
  const kubectl = (args: string[], input?: string) =>
    run(join(controlPlaneBinaries(), "kubectl"), [`--kubeconfig=${kubeconfig}`, ...args], { input });
  const layout = nodeLayout(dir, "");
  const volumes = JSON.parse(kubectl(["get", "pv", "-l", "wicked.dev/node-volume", "-o", "json"])) as {
    items: Array<{
      metadata: { name: string };
      spec: { hostPath: { path: string } };
      status?: { phase?: string };
    }>;
  };
  for (const pv of volumes.items.filter(
    (v) => v.status?.phase === "Released" || v.status?.phase === "Failed",
  )) {
    kubectl(["delete", "pv", pv.metadata.name, "--wait=true", "--timeout=60s"]);
    if (pv.spec.hostPath.path.startsWith(`${layout.volumes}/`))
      rmSync(pv.spec.hostPath.path, { recursive: true, force: true });
  }
  kubectl(["apply", "-f", "-"], storageManifests(layout, VOLUME_POOL));
}

/**
 * The default StorageClass and a pool of hostPath PersistentVolumes for it (no provisioner runs here, as
 * none can be pulled). Directories are world-writable: a hostPath volume gets no fsGroup ownership, and the
 * chart's Postgres runs as its own user.
 */
function storageManifests(layout: NodeLayout, count: number): string {
  const docs = [
    {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: {
        name: "standard",
        annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
      },
      provisioner: "kubernetes.io/no-provisioner",
      volumeBindingMode: "WaitForFirstConsumer",
      reclaimPolicy: "Retain",
    },
  ];
  const volumes = Array.from({ length: count }, (_, i) => {
    const path = join(layout.volumes, `pv-${i}`);
    mkdirSync(path, { recursive: true, mode: 0o1777 });
    execFileSync("chmod", ["1777", path]);
    return {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: `wicked-node-pv-${i}`, labels: { "wicked.dev/node-volume": "true" } },
      spec: {
        capacity: { storage: "5Gi" },
        accessModes: ["ReadWriteOnce"],
        persistentVolumeReclaimPolicy: "Retain",
        storageClassName: "standard",
        hostPath: { path, type: "Directory" },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              {
                matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [NODE.name] }],
              },
            ],
          },
        },
      },
    };
  });
  return [...docs, ...volumes].map((d) => JSON.stringify(d)).join("\n---\n");
}

/** Builds one of hack/images' images (cached there) and returns its reference. */
export function buildImage(
  which: "pause" | "node-base" | "postgres" | "wicked" | "kong-double" | "kong-double-next",
): string {
  const out = execFileSync(join(root, "hack", "images", "build.sh"), [which], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const ref = out.trim().split("\n").pop();
  if (!ref) throw new Error(`hack/images/build.sh ${which} printed no image`);
  return ref;
}

/** Puts podman images into the node's containerd (pods use them with imagePullPolicy IfNotPresent). */
export function loadImages(containerdSocket: string, images: string[]): void {
  execFileSync(join(root, "hack", "images", "load.sh"), [containerdSocket, ...images], {
    stdio: ["ignore", "inherit", "inherit"],
  });
}

/**
 * Stops the cluster kept in dir and removes what it left on the machine: pods (through the CRI, so their
 * network is torn down), containerd's shims, mounts under dir, kube-proxy's iptables chains, the bridge and
 * the node address. Idempotent; images stay in containerd's root (in the cache) for the next start.
 */
export async function stopCluster(dir: string): Promise<void> {
  const absolute = resolve(dir);
  if (otherNodeKubelets(absolute).length > 0) {
    // Another checkout's node owns the bridge, the address and the chains: only this directory goes.
    rmSync(absolute, { recursive: true, force: true });
    return;
  }
  const state = readState(absolute);
  const processes = state?.processes ?? [];
  const layout = nodeLayout(absolute, "");
  const socket = layout.containerd.socket;
  const nodeBin = existsSync(join(absolute, "state.json")) || existsSync(socket) ? nodeBinaries() : "";
  // The kubelet first (it would restart what is removed), then every pod through the CRI.
  for (const p of processes.filter((p) => p.name === "kubelet")) await stopPid(p.pid);
  if (existsSync(socket) && nodeBin) {
    run(join(nodeBin, "crictl"), ["--runtime-endpoint", `unix://${socket}`, "rmp", "--all", "--force"], {
      ignoreFailure: true,
    });
  }
  for (const p of [...processes].reverse()) await stopPid(p.pid);
  run("pkill", ["-KILL", "-f", `containerd-shim-runc-v2 .*-address ${socket}`], { ignoreFailure: true });
  unmountUnder(absolute);
  if (nodeBin) run(join(nodeBin, "kube-proxy"), ["--cleanup"], { ignoreFailure: true });
  removeKubeletChains();
  run("ip", ["link", "delete", NODE.bridge], { ignoreFailure: true });
  run("ip", ["addr", "delete", `${NODE.address}/32`, "dev", "lo"], { ignoreFailure: true });
  rmSync(absolute, { recursive: true, force: true });
}

/** The iptables chains the kubelet adds (kube-proxy --cleanup removes only its own). */
function removeKubeletChains(): void {
  for (const iptables of ["iptables", "ip6tables"]) {
    for (const hook of ["INPUT", "OUTPUT"])
      run(iptables, ["-t", "filter", "-D", hook, "-j", "KUBE-FIREWALL"], { ignoreFailure: true });
    for (const table of ["filter", "nat", "mangle"])
      for (const chain of ["KUBE-FIREWALL", "KUBE-KUBELET-CANARY", "KUBE-IPTABLES-HINT"]) {
        run(iptables, ["-t", table, "-F", chain], { ignoreFailure: true });
        run(iptables, ["-t", table, "-X", chain], { ignoreFailure: true });
      }
  }
}

/** Unmounts everything mounted below dir (pods' volumes, overlay snapshots), deepest first. */
function unmountUnder(dir: string): void {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .filter((point) => point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) run("umount", ["-l", point], { ignoreFailure: true });
}
