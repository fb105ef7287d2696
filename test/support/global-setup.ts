import type { TestProject } from "vitest/node";
import { type ControlPlane, startControlPlane } from "../../hack/controlplane/controlplane.ts";
import { type Postgres, startPostgres } from "./postgres.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** Admin kubeconfig of the cluster under test. */
    kubeconfig: string;
    /** Kubeconfig of a user without any RBAC grant, for authorization tests. */
    userKubeconfig: string;
    /** Connection string of an empty Postgres database that tests may migrate. */
    databaseUrl: string;
  }
}

/**
 * Starts the real parts the integration tests run against, once per run: the local control plane unless
 * KUBECONFIG is given (then USER_KUBECONFIG names the non-admin identity), and Postgres unless DATABASE_URL is
 * given.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<void>> = [];
  let cp: ControlPlane | undefined;
  let pg: Postgres | undefined;
  try {
    if (process.env.KUBECONFIG) {
      project.provide("kubeconfig", process.env.KUBECONFIG);
      project.provide("userKubeconfig", process.env.USER_KUBECONFIG ?? "");
    } else {
      cp = await startControlPlane();
      stops.push(() => (cp as ControlPlane).stop());
      project.provide("kubeconfig", cp.kubeconfig);
      project.provide("userKubeconfig", cp.userKubeconfig);
    }
    if (process.env.DATABASE_URL) {
      project.provide("databaseUrl", process.env.DATABASE_URL);
    } else {
      pg = await startPostgres();
      stops.push(() => (pg as Postgres).stop());
      project.provide("databaseUrl", pg.url);
    }
  } catch (err) {
    for (const stop of stops.reverse()) await stop();
    throw err;
  }
  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}
