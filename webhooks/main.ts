/**
 * `wicked webhooks`: the admission webhook server configured from the environment, with its serving
 * certificate read from files (a mounted Secret) and reloaded when they change, so a certificate renewed by
 * the chart or cert-manager is served without a restart.
 */
import { createHash, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import pino, { type Logger } from "pino";
import { KubeClient, RestMapper } from "../controller-runtime/client.ts";
import { loadClusterAccess } from "../controller-runtime/kubeconfig.ts";
import { RestClient } from "../controller-runtime/rest.ts";
import { createWebhookServer } from "./server.ts";

/** Settings of the webhook process; every one has an environment variable. */
export interface WebhooksConfig {
  /** KUBECONFIG, or the in-cluster service account when unset. */
  kubeconfig?: string;
  /** WICKED_WEBHOOK_PORT, default 9443. */
  port: number;
  /** WICKED_WEBHOOK_BIND_ADDRESS; all interfaces when unset. */
  host?: string;
  /** WICKED_WEBHOOK_CERT_DIR: holds tls.crt and tls.key; default /etc/wicked/tls. */
  certDir: string;
  /** WICKED_WEBHOOK_CERT_RELOAD_SECONDS: how often the files are checked for a new certificate; default 60. */
  certReloadSeconds: number;
  /** WICKED_LOG_LEVEL, default info. */
  logLevel: string;
}

/** A running webhook process. */
export interface RunningWebhooks {
  /** Base URL the server listens on. */
  url: string;
  /** Stops the certificate reloads and the server. */
  stop(): Promise<void>;
}

/** Reads the webhook server's configuration from the environment. */
export function webhooksConfigFromEnv(env: NodeJS.ProcessEnv = process.env): WebhooksConfig {
  return {
    ...(env.KUBECONFIG ? { kubeconfig: env.KUBECONFIG } : {}),
    ...(env.WICKED_WEBHOOK_BIND_ADDRESS ? { host: env.WICKED_WEBHOOK_BIND_ADDRESS } : {}),
    port: Number(env.WICKED_WEBHOOK_PORT ?? 9443),
    certDir: env.WICKED_WEBHOOK_CERT_DIR ?? "/etc/wicked/tls",
    certReloadSeconds: Number(env.WICKED_WEBHOOK_CERT_RELOAD_SECONDS ?? 60),
    logLevel: env.WICKED_LOG_LEVEL ?? "info",
  };
}

/** The serving certificate in `dir` (tls.crt, tls.key), with a digest to notice a change. */
export async function readCertificate(dir: string): Promise<{ cert: Buffer; key: Buffer; digest: string }> {
  const read = (file: string) =>
    readFile(join(dir, file)).catch((cause: unknown) => {
      throw new Error(
        `Cannot read ${join(dir, file)}: mount the webhook's TLS Secret there or set WICKED_WEBHOOK_CERT_DIR`,
        { cause },
      );
    });
  const [cert, key] = await Promise.all([read("tls.crt"), read("tls.key")]);
  const digest = createHash("sha256").update(cert).update(key).digest("hex");
  return { cert, key, digest };
}

/** Within this long of its expiry, the serving certificate is reported at every (re)load. */
const EXPIRY_WARNING_MS = 30 * 24 * 60 * 60 * 1000;

/** When the certificate expires, and whether that is soon enough to say so. Pure. */
export function certificateExpiry(cert: string | Buffer, now: Date): { expires: Date; soon: boolean } {
  const expires = new Date(new X509Certificate(cert).validTo);
  return { expires, soon: expires.getTime() - now.getTime() < EXPIRY_WARNING_MS };
}

function reportExpiry(log: Logger, cert: Buffer): void {
  const { expires, soon } = certificateExpiry(cert, new Date());
  if (soon)
    log.warn(
      { expires: expires.toISOString() },
      "The serving certificate expires soon; run `helm upgrade` (the chart renews it) or let cert-manager issue it",
    );
}

/** Starts the webhook server from a configuration. */
export async function startWebhooks(config: WebhooksConfig, logger?: Logger): Promise<RunningWebhooks> {
  const log = logger ?? pino({ level: config.logLevel });
  const rest = new RestClient(loadClusterAccess(config.kubeconfig));
  const client = new KubeClient(rest, new RestMapper(rest));
  let certificate = await readCertificate(config.certDir);
  reportExpiry(log, certificate.cert);
  const server = createWebhookServer({
    client,
    certificate,
    logger: log,
    port: config.port,
    ...(config.host ? { host: config.host } : {}),
  });
  const url = await server.listen();

  let reloading = false;
  const reload = setInterval(() => {
    if (reloading) return;
    reloading = true;
    readCertificate(config.certDir)
      .then((next) => {
        if (next.digest === certificate.digest) return;
        server.setCertificate(next);
        certificate = next;
        log.info({ dir: config.certDir }, "Reloaded the serving certificate");
        reportExpiry(log, next.cert);
      })
      .catch((err: unknown) => {
        // Keep serving the certificate in memory; a Secret update is written in one step, so a failed read is
        // a transient state of the mount and the next check picks up the complete files.
        log.warn({ err }, "Failed to reload the serving certificate; serving the previous one");
      })
      .finally(() => {
        reloading = false;
      });
  }, config.certReloadSeconds * 1000);
  reload.unref();

  return {
    url,
    async stop() {
      clearInterval(reload);
      await server.close();
    },
  };
}

/** `wicked webhooks`: starts the server from the environment; the caller stops it on SIGTERM. */
export function runWebhooksFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<RunningWebhooks> {
  return startWebhooks(webhooksConfigFromEnv(env));
}
