/**
 * Helpers for integration tests against a real apiserver: clients from a kubeconfig, a namespace per test,
 * polling, forcing a watch to expire by compacting etcd, and a TCP proxy that can cut a manager off from
 * the apiserver (a network partition, to test leader election without hooks in the code under test).
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { dirname, join } from "node:path";
import type { Logger } from "pino";
import { KubeClient, RestMapper } from "./client.ts";
import { type ClusterAccess, kubeconfigAccess } from "./kubeconfig.ts";
import { createManager, type Manager, type ManagerOptions } from "./manager.ts";
import { RestClient } from "./rest.ts";
import type { GroupVersionKind } from "./types.ts";

/** The core Namespace kind. */
export const NAMESPACE_GVK: GroupVersionKind = {
  group: "",
  version: "v1",
  kind: "Namespace",
  plural: "namespaces",
};
/** The core ConfigMap kind, the watched kind of the runtime's integration tests. */
export const CONFIGMAP_GVK: GroupVersionKind = {
  group: "",
  version: "v1",
  kind: "ConfigMap",
  plural: "configmaps",
};

/** Loads a kubeconfig file. */
export function loadKubeConfig(path: string): ClusterAccess {
  return kubeconfigAccess(path);
}

/** A KubeClient (and its RestClient) for a cluster. */
export function clientFor(kc: ClusterAccess): { client: KubeClient; rest: RestClient } {
  const rest = new RestClient(kc);
  return { client: new KubeClient(rest, new RestMapper(rest)), rest };
}

/** Creates a namespace with a random suffix and returns its name and a function deleting it. */
export async function createNamespace(
  client: KubeClient,
  prefix: string,
): Promise<{ name: string; remove(): Promise<void> }> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
  return { name, remove: () => client.delete(NAMESPACE_GVK, { namespace: "", name }) };
}

/** Polls `check` until it returns a value other than undefined/false, or throws after timeoutMs. */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * The etcd client URL of the local control plane behind a kubeconfig (read from the apiserver's logged
 * flags), or undefined for any other cluster.
 */
export function localEtcdUrl(kubeconfigPath: string): string | undefined {
  const log = join(dirname(kubeconfigPath), "kube-apiserver.log");
  if (!existsSync(log)) return undefined;
  return readFileSync(log, "utf8").match(/--etcd-servers="?\[?(http[^"\s\],]+)/)?.[1];
}

/**
 * Compacts etcd up to `revision` (a resourceVersion), through etcd's JSON gateway. Afterwards a watch from
 * an older resourceVersion that the apiserver serves from etcd answers 410 Gone. (Kinds the apiserver serves
 * from its watch cache keep answering from memory, so tests expire watches of Events, which are uncached.)
 */
export async function compactEtcd(etcdUrl: string, revision: string): Promise<void> {
  const res = await fetch(`${etcdUrl}/v3/kv/compaction`, {
    method: "POST",
    body: JSON.stringify({ revision, physical: true }),
  });
  if (!res.ok)
    throw new Error(`etcd compaction to ${revision} failed with ${res.status}: ${await res.text()}`);
}

/** A TCP proxy to the apiserver that a test can cut, as if the network between a replica and it broke. */
export class ApiserverProxy {
  private readonly sockets = new Set<Socket>();
  private cut = false;

  private constructor(
    private readonly server: Server,
    /** The same cluster and credentials, through this proxy. */
    readonly cluster: ClusterAccess,
  ) {}

  /** Starts a proxy in front of the current cluster of kc. */
  static async start(kc: ClusterAccess): Promise<ApiserverProxy> {
    const target = new URL(kc.server);
    let proxy: ApiserverProxy | undefined;
    const server = createServer((client) => proxy?.accept(client, target));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    proxy = new ApiserverProxy(server, {
      server: `${target.protocol}//127.0.0.1:${port}`,
      connection: () => kc.connection(),
    });
    return proxy;
  }

  /** Breaks every connection and refuses new ones until restore(). */
  partition(): void {
    this.cut = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  /** Lets connections through again. */
  restore(): void {
    this.cut = false;
  }

  /** Closes the proxy. */
  async close(): Promise<void> {
    this.partition();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, target: URL): void {
    if (this.cut) {
      client.destroy();
      return;
    }
    const upstream = createConnection(Number(target.port || 443), target.hostname);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
      socket.on("close", () => this.sockets.delete(socket));
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

/**
 * Starts a manager for an integration test: its informers and Lease in `namespace`, its servers on free
 * loopback ports, watches retried within a second. `opts` add or override. The manager joins `started`
 * before it starts, so a test's cleanup stops it even when starting fails.
 */
export async function startTestManager(
  kc: ClusterAccess,
  logger: Logger,
  namespace: string,
  opts: Partial<ManagerOptions> & Pick<ManagerOptions, "controllers">,
  started: Manager[],
): Promise<Manager> {
  const manager = createManager({
    cluster: kc,
    logger,
    metricsPort: 0,
    healthPort: 0,
    bindAddress: "127.0.0.1",
    namespaces: [namespace],
    watchBackoff: { baseMs: 100, capMs: 1000, jitter: 0.2 },
    ...opts,
  });
  started.push(manager);
  await manager.start();
  return manager;
}
