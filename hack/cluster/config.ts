/**
 * The configuration files of the real node, rendered as pure functions of its layout: containerd, the CNI
 * network, the kubelet, kube-proxy and CoreDNS. cluster.ts writes them and starts the processes.
 */
import { join } from "node:path";

/** Addresses and names of the single node; fixed, so the node is one per machine (like a kind node). */
export const NODE = {
  name: "wicked-node",
  /**
   * The node's own address, added to `lo` as a /32: the apiserver, the kubelet and CoreDNS listen on it, and
   * pods reach it through their default route (the bridge). It does not depend on the machine's network.
   */
  address: "10.245.0.1",
  podCidr: "10.244.0.0/24",
  serviceCidr: "10.96.0.0/16",
  bridge: "wicked0",
  clusterDomain: "cluster.local",
} as const;

/** Where each part of the node keeps its files, under the cluster's directory. */
export function nodeLayout(dir: string, containerdRoot: string) {
  return {
    containerd: {
      config: join(dir, "containerd", "config.toml"),
      root: containerdRoot,
      state: join(dir, "containerd", "state"),
      socket: join(dir, "containerd", "containerd.sock"),
    },
    cni: { confDir: join(dir, "cni", "net.d"), ipamDir: join(dir, "cni", "ipam") },
    kubelet: { config: join(dir, "kubelet", "config.json"), root: join(dir, "kubelet", "root") },
    kubeProxyConfig: join(dir, "kube-proxy.json"),
    corefile: join(dir, "Corefile"),
    volumes: join(dir, "volumes"),
  };
}

/** The node's layout. */
export type NodeLayout = ReturnType<typeof nodeLayout>;

/**
 * containerd 1.6's configuration (version 2). `restrict_oom_score_adj` because this machine lacks
 * CAP_SYS_RESOURCE (runc fails to lower oom_score_adj otherwise); cgroupfs because the host has cgroup v1
 * and no systemd; the sandbox image is built locally, as no registry is reachable.
 */
export function containerdConfig(layout: NodeLayout, sandboxImage: string, cniBinDir: string): string {
  const c = layout.containerd;
  return `version = 2
root = ${JSON.stringify(c.root)}
state = ${JSON.stringify(c.state)}

[grpc]
  address = ${JSON.stringify(c.socket)}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${JSON.stringify(sandboxImage)}
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${JSON.stringify(cniBinDir)}
    conf_dir = ${JSON.stringify(layout.cni.confDir)}
`;
}

/** The pod network: one bridge, addresses from the node's pod CIDR, NAT to the outside, hairpin for Services. */
export function cniConfig(layout: NodeLayout): string {
  return JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: "wicked",
      plugins: [
        {
          type: "bridge",
          bridge: NODE.bridge,
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: {
            type: "host-local",
            ranges: [[{ subnet: NODE.podCidr }]],
            routes: [{ dst: "0.0.0.0/0" }],
            dataDir: layout.cni.ipamDir,
          },
        },
        { type: "portmap", capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

/**
 * KubeletConfiguration for this kind of machine: cgroup v1 with the cgroupfs driver (`failCgroupV1: false`),
 * no QoS cgroups or node-allocatable enforcement (the hierarchy is not delegated to us), swap tolerated, and
 * no image garbage collection (images cannot be pulled again: they were imported, not pulled).
 */
export function kubeletConfig(layout: NodeLayout): string {
  return JSON.stringify(
    {
      apiVersion: "kubelet.config.k8s.io/v1beta1",
      kind: "KubeletConfiguration",
      address: NODE.address,
      port: 10250,
      readOnlyPort: 0,
      healthzBindAddress: "127.0.0.1",
      healthzPort: 10248,
      containerRuntimeEndpoint: `unix://${layout.containerd.socket}`,
      cgroupDriver: "cgroupfs",
      failCgroupV1: false,
      failSwapOn: false,
      cgroupsPerQOS: false,
      enforceNodeAllocatable: [],
      localStorageCapacityIsolation: false,
      clusterDNS: [NODE.address],
      clusterDomain: NODE.clusterDomain,
      resolvConf: "/etc/resolv.conf",
      podCIDR: NODE.podCidr,
      maxPods: 110,
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      evictionHard: { "memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%" },
      // The apiserver reads logs and runs exec through the kubelet; on this single test node it is trusted
      // by address (the kubelet listens on the node address only).
      authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
      authorization: { mode: "AlwaysAllow" },
      serializeImagePulls: false,
      registerNode: true,
    },
    null,
    2,
  );
}

/** kube-proxy in iptables mode; conntrack sysctls left as they are (maxPerCore 0). */
export function kubeProxyConfig(kubeconfig: string): string {
  return JSON.stringify(
    {
      apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
      kind: "KubeProxyConfiguration",
      clientConnection: { kubeconfig },
      mode: "iptables",
      clusterCIDR: NODE.podCidr,
      hostnameOverride: NODE.name,
      healthzBindAddress: "127.0.0.1:10256",
      metricsBindAddress: "127.0.0.1:10249",
      conntrack: { maxPerCore: 0 },
    },
    null,
    2,
  );
}

/**
 * CoreDNS on the node address (as NodeLocal DNSCache runs on a link-local one): the cluster's zone from the
 * apiserver, everything else forwarded to the machine's resolver.
 */
export function corefile(kubeconfig: string): string {
  return `${NODE.clusterDomain}:53 in-addr.arpa:53 ip6.arpa:53 {
    bind ${NODE.address}
    errors
    kubernetes ${NODE.clusterDomain} in-addr.arpa ip6.arpa {
        kubeconfig ${kubeconfig}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
}
.:53 {
    bind ${NODE.address}
    errors
    forward . /etc/resolv.conf
    cache 30
}
`;
}
