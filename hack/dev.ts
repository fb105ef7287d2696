/**
 * `make dev` (`wicked dev`): the whole product on one machine. Starts (or reuses) the local control plane
 * unless KUBECONFIG is set, starts an embedded Postgres (PGlite) unless DATABASE_URL is set, migrates the
 * database, installs the CRDs and the admission policies, applies config/samples into WICKED_NAMESPACE
 * (default "default"), runs the operator, and runs the portal's components (auth server, portal API, portal
 * UI) in this process from the configuration the operator rendered — the local control plane has no kubelet,
 * so the cluster runs none of their pods (hack/dev/components.ts).
 *
 * Environment: KONG_ADMIN_URL (+ KONG_PROXY_URL) publishes the APIs on a Kong; WICKED_DEV_SMTP_URL and
 * WICKED_DEV_CHAT_URL send the portal's mails and chat messages to a local SMTP server and webhook;
 * WICKED_DEV_PORTAL_PORT, WICKED_DEV_API_PORT and WICKED_DEV_AUTH_PORT move the components off 3000, 3001
 * and 3010 (a taken port becomes a free one). Prints "wicked dev is running." and the URLs once everything
 * serves; WICKED_DEV_EXIT=1 stops right after that (for scripts). Ctrl-C stops everything but the control
 * plane, which keeps running for the next `make dev` (`make controlplane-down` stops it).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import YAML from "yaml";
import type { ApiPortal } from "../api/v1alpha1/index.ts";
import { createDatabase } from "../db/connect.ts";
import { migrateToLatest } from "../db/migrate.ts";
import { operatorConfigFromEnv, startOperator } from "../operator/main.ts";
import { binaries, ensureDetachedControlPlane, freePort } from "./controlplane/controlplane.ts";
import { startPortalComponents } from "./dev/components.ts";
import { choosePorts, DEFAULT_PORTS, localUrls } from "./dev/local-urls.ts";
import { devPortalPatch, devSecrets, devSettingsFromEnv } from "./dev/portal-settings.ts";

const DEV_DIR = resolve(".dev");
const NAMESPACE = process.env.WICKED_NAMESPACE || "default";
/** The sample ApiPortal (config/samples/apiportal.yaml). */
const PORTAL = "developer-portal";
const HOST = "127.0.0.1";

let binDir: string | undefined;

/** Runs the pinned kubectl; its errors go to the terminal. Only before the in-process servers start. */
function kubectl(kubeconfig: string, args: string[], input?: string): string {
  binDir ??= binaries();
  return execFileSync(join(binDir, "kubectl"), [`--kubeconfig=${kubeconfig}`, ...args], {
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
  const server = new PGLiteSocketServer({ db, port, host: HOST, maxConnections: 32 });
  await server.start();
  return {
    url: `postgres://postgres@${HOST}:${port}/postgres?sslmode=disable`,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}

/** A port from the environment, or the default. */
function portFromEnv(name: string, fallback: number): number {
  const value = process.env[name];
  if (!value) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`${name}=${value} is not a port; use a number from 0 (any free port) to 65535.`);
  return port;
}

async function main(stops: Array<() => Promise<void>>): Promise<void> {
  const settings = devSettingsFromEnv(process.env);
  const kubeconfig =
    process.env.KUBECONFIG || (await ensureDetachedControlPlane(join(DEV_DIR, "controlplane"))).kubeconfig;
  const pglite = process.env.DATABASE_URL ? undefined : await startPglite();
  if (pglite) stops.push(pglite.stop);
  const databaseUrl = process.env.DATABASE_URL || pglite?.url || "";

  const db = createDatabase(databaseUrl, { maxConnections: 4 });
  const report = await migrateToLatest(db).finally(() => db.destroy());

  const crds = readdirSync("crds").map((f) => `crds/${f}`);
  kubectl(kubeconfig, ["apply", "--server-side", "--force-conflicts", ...crds.flatMap((f) => ["-f", f])]);
  const crdNames = crds.map(
    (f) => `crd/${(YAML.parse(readFileSync(f, "utf8")) as { metadata: { name: string } }).metadata.name}`,
  );
  kubectl(kubeconfig, ["wait", "--for=condition=Established", "--timeout=60s", ...crdNames]);
  kubectl(kubeconfig, ["apply", "-f", "config/admission/"]);
  const namespace = kubectl(kubeconfig, ["create", "namespace", NAMESPACE, "--dry-run=client", "-o", "json"]);
  kubectl(kubeconfig, ["apply", "-f", "-"], namespace);
  kubectl(kubeconfig, ["apply", "-n", NAMESPACE, "-f", "config/samples/"]);

  const ports = await choosePorts(
    {
      portal: portFromEnv("WICKED_DEV_PORTAL_PORT", DEFAULT_PORTS.portal),
      api: portFromEnv("WICKED_DEV_API_PORT", DEFAULT_PORTS.api),
      auth: portFromEnv("WICKED_DEV_AUTH_PORT", DEFAULT_PORTS.auth),
    },
    HOST,
  );
  const portal = JSON.parse(
    kubectl(kubeconfig, ["-n", NAMESPACE, "get", "apiportal", PORTAL, "-o", "json"]),
  ) as ApiPortal;
  const patch = devPortalPatch(portal.spec, settings, localUrls(ports, HOST));
  kubectl(kubeconfig, [
    "-n",
    NAMESPACE,
    "patch",
    "apiportal",
    PORTAL,
    "--type=merge",
    "-p",
    JSON.stringify(patch),
  ]);
  const secrets = devSecrets(portal.spec.database.urlSecretRef, databaseUrl, settings);
  kubectl(
    kubeconfig,
    ["apply", "-n", NAMESPACE, "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "List", items: secrets }),
  );

  const operatorPorts = await choosePorts({ portal: 8080, api: 8081, auth: 0 }, HOST);
  const operator = await startOperator({
    ...operatorConfigFromEnv({
      WICKED_METRICS_PORT: String(operatorPorts.portal),
      WICKED_HEALTH_PORT: String(operatorPorts.api),
      ...process.env,
      KUBECONFIG: kubeconfig,
    }),
    leaseNamespace: NAMESPACE,
  });
  stops.push(operator.stop);

  const components = await startPortalComponents({
    kubeconfig,
    namespace: NAMESPACE,
    portal: PORTAL,
    databaseUrl,
    ports,
    host: HOST,
    ...(settings.kongProxyUrl ? { gatewayUrl: settings.kongProxyUrl } : {}),
    // PGlite serves one session; keep its queue short.
    maxConnections: pglite ? 2 : 4,
  });
  stops.push(components.stop);

  console.log(`
wicked dev is running.
  portal:        ${components.urls.portal}
  portal API:    ${components.urls.api} (OpenAPI document at ${components.urls.api}/openapi.json)
  auth server:   ${components.urls.auth}
  gateway:       ${settings.kongAdminUrl ? `${components.urls.gateway} (Admin API ${settings.kongAdminUrl})` : "none (set KONG_ADMIN_URL to a Kong Admin API, and KONG_PROXY_URL to its proxy, to publish the APIs)"}
  mail:          ${settings.smtpUrl ? new URL(settings.smtpUrl).host : "as the sample declares (set WICKED_DEV_SMTP_URL to an SMTP server to receive the mails)"}
  chat:          ${settings.chatUrl ?? "as the sample declares (set WICKED_DEV_CHAT_URL to a Slack-style incoming webhook)"}
  kubeconfig:    ${kubeconfig}
  database:      ${databaseUrl.replace(/(\/\/[^:@/]+):[^@/]*@/, "$1:***@")} (schema ${report.version ?? "empty"})
  samples:       applied to namespace ${NAMESPACE}
  operator:      metrics ${operator.manager.metricsUrl}, health ${operator.manager.healthUrl}

  export KUBECONFIG=${kubeconfig}
  kubectl get wicked -n ${NAMESPACE}

Press Ctrl-C to stop. The control plane keeps running; \`make controlplane-down\` stops it.`);
}

const stops: Array<() => Promise<void>> = [];
const stopAll = async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
};
try {
  await main(stops);
} catch (err) {
  console.error(
    `wicked dev did not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
  );
  await stopAll();
  process.exit(1);
}
if (process.env.WICKED_DEV_EXIT !== "1") {
  await new Promise<void>((done) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => done());
  });
}
await stopAll();
console.log("wicked dev stopped.");
process.exit(0);
