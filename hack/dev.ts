/**
 * `make dev` (`wicked dev`): the whole product on one machine. Starts (or reuses) the local control plane
 * unless KUBECONFIG is set, a private Postgres 15 whose data survives restarts in .dev/postgres unless
 * DATABASE_URL is set, a mail catcher with a web inbox (MailDev) unless WICKED_DEV_SMTP_URL is set, the Kong
 * test double as the local gateway unless KONG_ADMIN_URL is set, and an echo upstream for the sample APIs;
 * migrates the database, installs the CRDs and the admission policies, applies config/samples into
 * WICKED_NAMESPACE (default "default"), runs the operator, and runs the portal's components (auth server,
 * portal API, portal UI) in this process from the configuration the operator rendered — the local control
 * plane has no kubelet, so the cluster runs none of their pods (hack/dev/components.ts); this process
 * reports their health on their Deployments instead (hack/dev/deployment-status.ts).
 *
 * Environment: KONG_ADMIN_URL (+ KONG_PROXY_URL) publishes the APIs on a Kong; WICKED_DEV_SMTP_URL and
 * WICKED_DEV_CHAT_URL send the portal's mails and chat messages to a local SMTP server and webhook;
 * WICKED_DEV_PORTAL_PORT, WICKED_DEV_API_PORT and WICKED_DEV_AUTH_PORT move the components off 3000, 3001
 * and 3010 (a taken port becomes a free one). Prints "wicked dev is running." and the URLs once everything
 * serves; WICKED_DEV_EXIT=1 stops right after that (for scripts). Ctrl-C stops everything but the control
 * plane, which keeps running for the next `make dev` (`make controlplane-down` stops it).
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import YAML from "yaml";
import type { ApiPortal } from "../api/v1alpha1/index.ts";
import { createDatabase } from "../db/connect.ts";
import { migrateToLatest } from "../db/migrate.ts";
import { operatorConfigFromEnv, startOperator } from "../operator/main.ts";
import { startEchoServer } from "../test/kong/contract-support.ts";
import { startPostgres } from "../test/support/postgres.ts";
import { binaries, ensureDetachedControlPlane } from "./controlplane/controlplane.ts";
import { startPortalComponents } from "./dev/components.ts";
import { reportComponentHealth } from "./dev/deployment-status.ts";
import { availablePort, choosePorts, DEFAULT_PORTS, localUrls } from "./dev/local-urls.ts";
import { devPortalPatch, devSecrets, devSettingsFromEnv } from "./dev/portal-settings.ts";
import { devSamples, readSamples } from "./dev/samples.ts";
import { startLocalGateway, startMailCatcher } from "./dev/services.ts";

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

/** A port from the environment, or the default. */
function portFromEnv(name: string, fallback: number): number {
  const value = process.env[name];
  if (!value) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`${name}=${value} is not a port; use a number from 0 (any free port) to 65535.`);
  return port;
}

async function main(stops: Stop[]): Promise<void> {
  const fromEnv = devSettingsFromEnv(process.env);
  const kubeconfig =
    process.env.KUBECONFIG || (await ensureDetachedControlPlane(join(DEV_DIR, "controlplane"))).kubeconfig;
  const postgres = process.env.DATABASE_URL
    ? undefined
    : await startPostgres({ dir: join(DEV_DIR, "postgres"), database: "wicked" });
  if (postgres) stops.push({ what: "Postgres", stop: postgres.stop });
  const databaseUrl = process.env.DATABASE_URL || postgres?.url || "";
  const mail = fromEnv.smtpUrl ? undefined : await startMailCatcher(HOST, join(DEV_DIR, "mail"));
  if (mail) stops.push({ what: "the mail catcher", stop: mail.stop });
  const gateway = fromEnv.kongAdminUrl ? undefined : await startLocalGateway(HOST);
  if (gateway) stops.push({ what: "the local gateway", stop: gateway.stop });
  const upstream = await startEchoServer();
  stops.push({ what: "the echo upstream", stop: upstream.stop });
  const settings = {
    ...fromEnv,
    ...(mail ? { smtpUrl: mail.smtpUrl } : {}),
    ...(gateway ? { kongAdminUrl: gateway.adminUrl, kongProxyUrl: gateway.proxyUrl } : {}),
  };

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
  const ports = await choosePorts(
    {
      portal: portFromEnv("WICKED_DEV_PORTAL_PORT", DEFAULT_PORTS.portal),
      api: portFromEnv("WICKED_DEV_API_PORT", DEFAULT_PORTS.api),
      auth: portFromEnv("WICKED_DEV_AUTH_PORT", DEFAULT_PORTS.auth),
    },
    HOST,
  );
  // Without nodes nothing runs the Deployments' pods: make dev reports its in-process components on them.
  const playsTheNode = kubectl(kubeconfig, ["get", "nodes", "-o", "name"]).trim() === "";
  const samples = readSamples();
  const portal = samples.find(
    (d) => d.kind === "ApiPortal" && d.metadata?.name === PORTAL,
  ) as unknown as ApiPortal;
  const patch = devPortalPatch(portal.spec, settings, localUrls(ports, HOST), playsTheNode ? 1 : 0);
  // The samples' upstreams are the shop's Services; on a laptop the APIs answer from the echo upstream.
  const secrets = devSecrets(portal.spec.database.urlSecretRef, databaseUrl, settings);
  const docs = devSamples(samples, { name: PORTAL, patch }, `http://${HOST}:${upstream.port}`, secrets);
  kubectl(
    kubeconfig,
    ["apply", "-n", NAMESPACE, "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "List", items: docs }),
  );

  const operator = await startOperator({
    ...operatorConfigFromEnv({
      WICKED_METRICS_PORT: String(await availablePort(8080, HOST)),
      WICKED_HEALTH_PORT: String(await availablePort(8081, HOST)),
      ...process.env,
      KUBECONFIG: kubeconfig,
    }),
    leaseNamespace: NAMESPACE,
  });
  stops.push({ what: "the operator", stop: operator.stop });

  const components = await startPortalComponents({
    kubeconfig,
    namespace: NAMESPACE,
    portal: PORTAL,
    databaseUrl,
    ports,
    host: HOST,
    ...(settings.kongProxyUrl ? { gatewayUrl: settings.kongProxyUrl } : {}),
  });
  stops.push({ what: "the portal's components", stop: components.stop });
  if (playsTheNode) {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfig);
    const reporter = reportComponentHealth({
      kubeConfig,
      namespace: NAMESPACE,
      components: {
        [`${PORTAL}-portal-ui`]: `http://${HOST}:${components.ports.portal}`,
        [`${PORTAL}-portal-api`]: `http://${HOST}:${components.ports.api}`,
        [`${PORTAL}-auth-server`]: `http://${HOST}:${components.ports.auth}`,
      },
    });
    stops.push({ what: "the health reporter", stop: async () => reporter.stop() });
  }

  const gatewayLine = gateway
    ? `${gateway.proxyUrl} — the Kong TEST DOUBLE from test/kong, not Kong (its Admin API: ${gateway.adminUrl}); set KONG_ADMIN_URL and KONG_PROXY_URL to use a real Kong`
    : `${settings.kongProxyUrl ?? components.urls.gateway} (Kong Admin API ${settings.kongAdminUrl})`;
  console.log(`
wicked dev is running.
  portal:        ${components.urls.portal}
  portal API:    ${components.urls.api} (OpenAPI document at ${components.urls.api}/openapi.json)
  auth server:   ${components.urls.auth}
  mail inbox:    ${mail ? `${mail.inboxUrl} (MailDev; the portal sends to ${mail.smtpUrl})` : `the portal sends to ${new URL(settings.smtpUrl ?? "smtp://unset").host} (WICKED_DEV_SMTP_URL)`}
  gateway:       ${gatewayLine}
  upstream:      http://${HOST}:${upstream.port} (echoes each request; the sample APIs forward to it)
  chat:          ${settings.chatUrl ?? "none (set WICKED_DEV_CHAT_URL to a Slack-style incoming webhook)"}
  kubeconfig:    ${kubeconfig}
  database:      ${databaseUrl.replace(/(\/\/[^:@/]+):[^@/]*@/, "$1:***@")} (schema ${report.version ?? "empty"}${postgres ? `; data in ${join(DEV_DIR, "postgres")}, \`make dev-reset\` empties it` : ""})
  samples:       applied to namespace ${NAMESPACE}
  operator:      metrics ${operator.manager.metricsUrl}, health ${operator.manager.healthUrl}

  export KUBECONFIG=${kubeconfig}
  kubectl get wicked -n ${NAMESPACE}

The first five minutes:
  1. Open ${components.urls.portal} and sign up.
  2. Open the mail in the inbox${mail ? ` (${mail.inboxUrl})` : ""} and follow its link to confirm your address.
  3. Log in, register an application (Applications), open the Orders API and subscribe with the Basic plan.
  4. Show the credentials, copy the API key, and call the API through the gateway:
       curl -H "X-Api-Key: <your key>" ${settings.kongProxyUrl ?? components.urls.gateway}/orders
     It answers 200 from the echo upstream; without the key, 401.

Press Ctrl-C to stop. The control plane keeps running; \`make controlplane-down\` stops it.`);
}

/** Something `make dev` started, and how to stop it. */
interface Stop {
  what: string;
  stop: () => Promise<void>;
}
const stops: Stop[] = [];
/** What is being stopped right now, for the message when stopping takes too long. */
let stopping = "";
const stopAll = async () => {
  for (const { what, stop } of stops.splice(0).reverse()) {
    const t0 = Date.now();
    stopping = what;
    await stop();
    // Stopping should take moments; say which part did not, so a slow stop can be traced.
    if (Date.now() - t0 > 1_000)
      console.error(`Stopping ${what} took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
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
/** How long stopping may take before the process exits anyway. */
const STOP_BOUND_MS = 15_000;
if (process.env.WICKED_DEV_EXIT !== "1") {
  await new Promise<void>((done) => {
    // `on`, not `once`: a Ctrl-C reaches this process twice (from the terminal and relayed by tsx), and a
    // signal without a handler would end it in the middle of stopping.
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => done());
  });
}
setTimeout(() => {
  console.error(
    `wicked dev did not stop within ${STOP_BOUND_MS / 1000}s (still stopping ${stopping}); exiting anyway.`,
  );
  process.exit(1);
}, STOP_BOUND_MS).unref();
await stopAll();
console.log("wicked dev stopped.");
process.exit(0);
