/**
 * The local control plane runs no kubelet and no deployment controller, so the portal's Deployments would
 * never report a replica while their components serve from the `make dev` process — and the ApiPortal
 * would say "Waiting for portal-ui (0/1 available)" about a portal that answers. `make dev` plays the node
 * for its in-process components instead: every few seconds it asks each component's /readyz and writes the
 * answer into its Deployment's status (its replicas available, or none), which is what the operator's
 * ComponentsAvailable condition reads. Only for a cluster without nodes: a real deployment controller owns
 * that status.
 */
import { AppsV1Api, type KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";

/** What a Deployment's status says when `ready` replicas of `replicas` serve. Pure. */
export function deploymentStatus(generation: number, replicas: number, ready: number) {
  return {
    observedGeneration: generation,
    replicas,
    updatedReplicas: replicas,
    readyReplicas: ready,
    availableReplicas: ready,
    ...(ready < replicas ? { unavailableReplicas: replicas - ready } : {}),
    conditions: [
      {
        type: "Available",
        status: ready >= replicas ? "True" : "False",
        reason: ready >= replicas ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
        message: "Reported by make dev, which runs the component in its own process",
      },
    ],
  };
}

/** Reports the in-process components' health on their Deployments until stopped. */
export function reportComponentHealth(opts: {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Deployment name → the component's base URL (its /readyz is asked). */
  components: Record<string, string>;
  intervalMs?: number;
}): { stop(): void } {
  const apps = opts.kubeConfig.makeApiClient(AppsV1Api);
  const report = async (name: string, url: string) => {
    const deployment = await apps.readNamespacedDeployment({ name, namespace: opts.namespace });
    const ready = (
      await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined)
    )?.ok
      ? 1
      : 0;
    const replicas = deployment.spec?.replicas ?? 1;
    const status = deploymentStatus(deployment.metadata?.generation ?? 0, replicas, ready * replicas);
    if (
      deployment.status?.observedGeneration === status.observedGeneration &&
      deployment.status?.availableReplicas === status.availableReplicas &&
      deployment.status?.replicas === status.replicas
    )
      return;
    await apps.patchNamespacedDeploymentStatus(
      { name, namespace: opts.namespace, body: { status } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  };
  const tick = async () => {
    // A Deployment the operator has not rendered yet, or an apiserver restarting: the next tick tries again.
    await Promise.all(
      Object.entries(opts.components).map(([name, url]) => report(name, url).catch(() => undefined)),
    );
  };
  void tick();
  const timer = setInterval(() => void tick(), opts.intervalMs ?? 3_000);
  return { stop: () => clearInterval(timer) };
}
