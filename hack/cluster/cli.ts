/**
 * `make cluster-up` / `make cluster-down`: the real single-node cluster, kept in .dev/cluster
 * (WICKED_CLUSTER_DIR). `up` is idempotent and prints the admin kubeconfig path.
 */
import { resolve } from "node:path";
import { ensureCluster, stopCluster } from "./cluster.ts";

const dir = resolve(process.env.WICKED_CLUSTER_DIR ?? ".dev/cluster");
const command = process.argv[2];
if (command === "up") {
  const cluster = await ensureCluster(dir);
  console.error(
    `The node is Ready; the apiserver is at ${cluster.server}, the node's address (pods reach the machine on it) is ${cluster.nodeAddress}. Logs: ${dir}/*.log`,
  );
  console.log(cluster.kubeconfig);
} else if (command === "down") {
  await stopCluster(dir);
  console.error("Stopped the cluster");
} else {
  console.error("usage: tsx hack/cluster/cli.ts up|down");
  process.exit(2);
}
