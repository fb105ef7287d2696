/**
 * The benchmarks' infrastructure: a kube-apiserver (the local control plane) and a Postgres server, started
 * here unless KUBECONFIG and DATABASE_URL point at existing ones (then nothing is started or stopped).
 */
import { startControlPlane } from "../hack/controlplane/controlplane.ts";
import { startPostgres } from "../test/support/postgres.ts";
import { onInterrupt } from "./interrupt.ts";

/** Where the benchmarks run. */
export interface Infra {
  kubeconfig: string;
  /** A Postgres URL whose user may create databases. */
  databaseUrl: string;
  /** Stops what was started here. */
  stop(): Promise<void>;
}

/**
 * Starts (or reuses, from the environment) Postgres and, unless `cluster` is false (then `kubeconfig` is
 * empty), the control plane.
 */
export async function startInfra(env: NodeJS.ProcessEnv = process.env, cluster = true): Promise<Infra> {
  const pg = env.DATABASE_URL ? undefined : await startPostgres();
  try {
    const cp = env.KUBECONFIG || !cluster ? undefined : await startControlPlane();
    const forget = onInterrupt(async () => {
      await cp?.stop();
      await pg?.stop();
    });
    return {
      kubeconfig: env.KUBECONFIG ?? cp?.kubeconfig ?? "",
      databaseUrl: env.DATABASE_URL ?? pg?.url ?? "",
      async stop() {
        forget();
        await cp?.stop();
        await pg?.stop();
      },
    };
  } catch (err) {
    await pg?.stop();
    throw err;
  }
}

/** A positive integer from the environment, or the default; a bad value is an error that says so. */
export function envInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, not "${raw}"`);
  return n;
}

/** A comma-separated list of positive integers from the environment, or `fallback`. */
export function envInts(env: NodeJS.ProcessEnv, name: string, fallback: number[]): number[] {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  return raw.split(",").map((part) => envInt({ [name]: part.trim() }, name, 0));
}
