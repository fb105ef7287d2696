import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import type { TestProject } from "vitest/node";
import {
  buildImage,
  ensureCluster,
  loadImages,
  runningCluster,
  stopCluster,
} from "../../../hack/cluster/cluster.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** Admin kubeconfig of the cluster the chart is installed on. */
    nodeKubeconfig: string;
    /** Address on which pods reach this machine's listeners (the Kong double, the sinks). */
    hostAddress: string;
    /**
     * The wicked image and the bundled Postgres' image, as the cluster's runtime knows them; and the Kong test
     * double's image (test/kong/image) under two tags, the second claiming the next Kong version, which a
     * managed gateway runs in Kong's place (empty when the cluster has none: the managed gateway's step skips).
     */
    images: { wicked: string; postgres: string; kongDouble: string; kongDoubleNext: string };
    /** Size of the wicked image in bytes (0 when it was not built here). */
    imageBytes: number;
  }
}

const CLUSTER_DIR = resolve(".dev/cluster");

/**
 * The suite's cluster: the one of KUBECONFIG (kind, for example; then WICKED_E2E_IMAGE,
 * WICKED_E2E_POSTGRES_IMAGE and WICKED_E2E_HOST_ADDRESS say what the cluster runs and where its pods reach
 * this machine), or this machine's own node (hack/cluster), started unless `make cluster-up` already runs
 * it, with the images built from the working tree's Dockerfile and loaded into its runtime.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.KUBECONFIG) {
    const required = (name: string) => {
      const value = process.env[name];
      if (!value)
        throw new Error(
          `KUBECONFIG names the cluster to install on, so ${name} must be set too (see test/e2e/node/README.md)`,
        );
      return value;
    };
    project.provide("nodeKubeconfig", process.env.KUBECONFIG);
    project.provide("hostAddress", required("WICKED_E2E_HOST_ADDRESS"));
    project.provide("images", {
      wicked: required("WICKED_E2E_IMAGE"),
      postgres: required("WICKED_E2E_POSTGRES_IMAGE"),
      kongDouble: process.env.WICKED_E2E_KONG_DOUBLE_IMAGE ?? "",
      kongDoubleNext: process.env.WICKED_E2E_KONG_DOUBLE_NEXT_IMAGE ?? "",
    });
    project.provide("imageBytes", 0);
    return async () => undefined;
  }

  const running = runningCluster(CLUSTER_DIR) !== undefined;
  const cluster = await ensureCluster(CLUSTER_DIR);
  const images = {
    wicked: buildImage("wicked"),
    postgres: buildImage("postgres"),
    kongDouble: buildImage("kong-double"),
    kongDoubleNext: buildImage("kong-double-next"),
  };
  loadImages(cluster.containerdSocket, Object.values(images));
  project.provide("nodeKubeconfig", cluster.kubeconfig);
  project.provide("hostAddress", cluster.nodeAddress);
  project.provide("images", images);
  project.provide("imageBytes", imageBytes(images.wicked));
  // A cluster someone started with `make cluster-up` stays; one started here goes with the run.
  return async () => {
    if (!running) await stopCluster(CLUSTER_DIR);
  };
}

function imageBytes(image: string): number {
  const out = execFileSync("podman", ["image", "inspect", "--format", "{{.Size}}", image], {
    encoding: "utf8",
    env: { ...process.env, CONTAINERS_CONF: resolve("hack/images/containers.conf") },
  });
  return Number(out.trim());
}
