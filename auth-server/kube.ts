/**
 * The auth server reads Secrets of the portal's namespace and nothing else from Kubernetes: the credentials
 * Secrets of OAuth2 subscriptions (client id and secret) and the client secrets of upstream identity
 * providers. RBAC: get on secrets.
 */
import { ApiException, CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { SecretReader } from "./clients.ts";

/** Reads decoded Secrets of one namespace; undefined for a Secret that does not exist. */
export function kubeSecretReader(kubeConfig: KubeConfig, namespace: string): SecretReader {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  return {
    async readSecret(name) {
      try {
        const secret = await core.readNamespacedSecret({ name, namespace });
        return Object.fromEntries(
          Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
        );
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        const status = err instanceof ApiException ? ` (HTTP ${err.code})` : "";
        throw new Error(
          `Could not read the Secret ${namespace}/${name}${status}; check the auth server's RBAC.`,
          {
            cause: err,
          },
        );
      }
    },
  };
}
