/**
 * `make dev`: the local development environment. Starts (or reuses) the local control plane unless
 * KUBECONFIG is set, starts an embedded Postgres (PGlite) unless DATABASE_URL is set, migrates the database,
 * installs the CRDs and the admission policies, applies config/samples, runs the operator and prints where
 * everything is. Ctrl-C stops Postgres; the
 * control plane keeps running for the next `make dev` (`make controlplane-down` stops it).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import YAML from "yaml";
import { createDatabase } from "../db/connect.ts";
import { migrateToLatest } from "../db/migrate.ts";
import { operatorConfigFromEnv, startOperator } from "../operator/main.ts";
import { binaries, ensureDetachedControlPlane, freePort } from "./controlplane/controlplane.ts";

const DEV_DIR = resolve(".dev");
const SAMPLES_NAMESPACE = process.env.WICKED_NAMESPACE ?? "default";

function kubectl(kubeconfig: string, args: string[], input?: string): string {
  return execFileSync(join(binaries(), "kubectl"), [`--kubeconfig=${kubeconfig}`, ...args], {
    input,
    encoding: "utf8",
    stdio: ["pipe", "pipe", "inherit"],
  });
}

/** An embedded Postgres served over the wire protocol, so every component connects as to any Postgres. */
async function startPglite(): Promise<{ url: string; stop: () => Promise<void> }> {
  mkdirSync(join(DEV_DIR, "pglite"), { recursive: true });
  const db = await PGlite.create(join(DEV_DIR, "pglite"));
  const port = await freePort();
  // PGlite is a single session: the socket server queues queries of all connections onto it.
  const server = new PGLiteSocketServer({ db, port, host: "127.0.0.1", maxConnections: 32 });
  await server.start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}

async function main(): Promise<void> {
  const kubeconfig =
    process.env.KUBECONFIG ?? (await ensureDetachedControlPlane(join(DEV_DIR, "controlplane"))).kubeconfig;
  const pglite = process.env.DATABASE_URL ? undefined : await startPglite();
  const databaseUrl = process.env.DATABASE_URL ?? pglite?.url ?? "";

  const db = createDatabase(databaseUrl, { maxConnections: 4 });
  const report = await migrateToLatest(db);
  await db.destroy();

  const crds = readdirSync("crds").map((f) => `crds/${f}`);
  kubectl(kubeconfig, ["apply", "--server-side", "--force-conflicts", ...crds.flatMap((f) => ["-f", f])]);
  const crdNames = crds.map(
    (f) => `crd/${(YAML.parse(readFileSync(f, "utf8")) as { metadata: { name: string } }).metadata.name}`,
  );
  kubectl(kubeconfig, ["wait", "--for=condition=Established", "--timeout=60s", ...crdNames]);
  kubectl(kubeconfig, ["apply", "-f", "config/admission/"]);
  kubectl(kubeconfig, ["apply", "-n", SAMPLES_NAMESPACE, "-f", "config/samples/"]);
  // Without a Kong to talk to, the portal runs without a gateway and GatewayReady says so.
  const gateway = process.env.KONG_ADMIN_URL
    ? { mode: "External", adminUrl: process.env.KONG_ADMIN_URL }
    : { mode: "None", adminUrl: null };
  kubectl(kubeconfig, [
    "-n",
    SAMPLES_NAMESPACE,
    "patch",
    "apiportal",
    "developer-portal",
    "--type=merge",
    "-p",
    JSON.stringify({ spec: { gateway } }),
  ]);
  // The sample's database Secret points at a production-like host; here it points at the local database.
  const secret = kubectl(kubeconfig, [
    "-n",
    SAMPLES_NAMESPACE,
    "create",
    "secret",
    "generic",
    "portal-database",
    `--from-literal=url=${databaseUrl}`,
    "--dry-run=client",
    "-o",
    "json",
  ]);
  kubectl(kubeconfig, ["apply", "-n", SAMPLES_NAMESPACE, "-f", "-"], secret);

  const operator = await startOperator({
    ...operatorConfigFromEnv({ ...process.env, KUBECONFIG: kubeconfig }),
    leaseNamespace: SAMPLES_NAMESPACE,
  });

  console.log(`
wicked dev is running.
  kubeconfig:    ${kubeconfig}
  database:      ${databaseUrl} (schema ${report.version ?? "empty"})
  samples:       applied to namespace ${SAMPLES_NAMESPACE}
  operator:      metrics ${operator.manager.metricsUrl}, health ${operator.manager.healthUrl}
  gateway:       ${process.env.KONG_ADMIN_URL ?? "none (set KONG_ADMIN_URL to a Kong Admin API to publish the APIs)"}

  export KUBECONFIG=${kubeconfig}
  kubectl get wicked -n ${SAMPLES_NAMESPACE}

Press Ctrl-C to stop. The control plane keeps running; \`make controlplane-down\` stops it.`);

  if (process.env.WICKED_DEV_EXIT !== "1") {
    await new Promise<void>((done) => {
      for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => done());
    });
  }
  await operator.stop();
  await pglite?.stop();
}

await main();
