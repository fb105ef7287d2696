/**
 * The portal's components as local processes' worth of servers, for `wicked dev` and the end-to-end tests:
 * a cluster without a kubelet (the local control plane) never runs the pods of the Deployments the operator
 * renders, so the auth server, the portal API and the portal UI run here instead, each built by its own
 * create function from exactly what the operator rendered for its pods: the component's ConfigMap
 * (`config.json`) and the portal's generated Secrets (`<portal>-session`, `<portal>-signing-keys`).
 *
 * Before that, the ApiPortal's spec.urls are pointed at the local ports, so the links in pages and mails,
 * the OIDC issuer and the redirects line up with where the components really listen. Only the asynchronous
 * Kubernetes client is used: callers may run in-process servers (a Kong double, sinks) that must keep
 * answering.
 */
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import pino, { type DestinationStream } from "pino";
import { type AuthServer, createAuthServer } from "../../auth-server/app.ts";
import { parseAuthServerConfig } from "../../auth-server/config.ts";
import { parseAuthKeys } from "../../auth-server/keys.ts";
import { kubeSecretReader } from "../../auth-server/kube.ts";
import { clientAddressKey } from "../../component/client-address.ts";
import { createLogger as authServerLogger, createLogger as portalApiLogger } from "../../component/logger.ts";
import { createDatabase } from "../../db/connect.ts";
import { createPortalApi, type PortalApi } from "../../portal-api/app.ts";
import { parsePortalApiConfig } from "../../portal-api/config.ts";
import { portalKube } from "../../portal-api/kube.ts";
import { parsePortalUiConfig, parsePortalUiSecrets } from "../../portal-ui/config.ts";
import { createPortalUi, type PortalUi } from "../../portal-ui/main.ts";
import { type ComponentPorts, choosePorts, localUrls, type PortalUrls, renderedFor } from "./local-urls.ts";

export type { ComponentPorts, PortalUrls };

/** How to start the components. */
export interface PortalComponentsOptions {
  kubeconfig: string;
  namespace: string;
  /** Name of the ApiPortal. */
  portal: string;
  /** The portal's database (what its `spec.database.urlSecretRef` Secret holds). */
  databaseUrl: string;
  /** Preferred ports (default DEFAULT_PORTS); a port that is taken, or 0, becomes a free one. */
  ports?: Partial<ComponentPorts>;
  /** Interface and host name of the local URLs; default 127.0.0.1. */
  host?: string;
  /** The gateway's proxy URL, written to spec.urls.gateway (clients call the APIs there); default unchanged. */
  gatewayUrl?: string;
  /** Where the components log (JSON lines); default stdout. */
  logDestination?: DestinationStream;
  /** Log level of the components; default WICKED_LOG_LEVEL or info. */
  logLevel?: string;
  /** Most connections of the components' database pool; default 4 (mind an embedded server's limit). */
  maxConnections?: number;
  /** How long to wait for the operator to render the components' configuration; default 180 s. */
  timeoutMs?: number;
}

/** The running components. */
export interface PortalComponents {
  urls: PortalUrls;
  ports: ComponentPorts;
  ui: PortalUi;
  api: PortalApi;
  auth: AuthServer;
  /** Stops the three servers and closes the database pool. */
  stop(): Promise<void>;
}

/** The operator did not render what the components need in time; the message says what to look at. */
export class RenderTimeoutError extends Error {
  override readonly name = "RenderTimeoutError";
}

/** Polls until `probe` returns a value; a failing probe (the apiserver busy or restarting) is tried again. */
async function poll<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let failure: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      failure = err;
    }
    if (Date.now() > deadline) {
      const last = failure instanceof Error ? ` (last error: ${failure.message})` : "";
      throw new RenderTimeoutError(`${what}${last}`, { cause: failure });
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The object, or undefined when the apiserver says it does not exist. */
async function orUndefined<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return undefined;
    throw err;
  }
}

/**
 * Points the ApiPortal at local URLs, waits until the operator has rendered the components' configuration
 * for them and generated the portal's keys, and starts the auth server, the portal API and the portal UI.
 */
export async function startPortalComponents(opts: PortalComponentsOptions): Promise<PortalComponents> {
  const host = opts.host ?? "127.0.0.1";
  const timeoutMs = opts.timeoutMs ?? 180_000;
  const { namespace, portal } = opts;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(opts.kubeconfig);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);

  const ports = await choosePorts(opts.ports, host);
  const wanted = { ...localUrls(ports, host), ...(opts.gatewayUrl ? { gateway: opts.gatewayUrl } : {}) };
  await custom.patchNamespacedCustomObject(
    {
      group: "wicked.dev",
      version: "v1alpha1",
      namespace,
      plural: "apiportals",
      name: portal,
      body: { spec: { urls: wanted } },
    },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );

  const describe = `kubectl -n ${namespace} describe apiportal ${portal}`;
  const configOf = (component: string) =>
    poll(
      `The operator did not render ConfigMap ${namespace}/${portal}-${component} for ${wanted.portal} within ${timeoutMs / 1000}s; is the operator running? \`${describe}\` tells what it reported.`,
      timeoutMs,
      async () => {
        const map = await orUndefined(() =>
          core.readNamespacedConfigMap({ name: `${portal}-${component}`, namespace }),
        );
        const text = map?.data?.["config.json"];
        const config = text ? (JSON.parse(text) as unknown) : undefined;
        return renderedFor(config, wanted) ? config : undefined;
      },
    );
  const secretOf = (name: string, keys: string[]) =>
    poll(
      `The operator did not generate Secret ${namespace}/${name} within ${timeoutMs / 1000}s; \`${describe}\` tells why.`,
      timeoutMs,
      async () => {
        const secret = await orUndefined(() => core.readNamespacedSecret({ name, namespace }));
        const data = secret?.data ?? {};
        if (!keys.every((k) => data[k] !== undefined)) return undefined;
        return Object.fromEntries(
          keys.map((k) => [k, Buffer.from(data[k] ?? "", "base64").toString("utf8")]),
        );
      },
    );

  const authConfig = parseAuthServerConfig(
    await configOf("auth-server"),
    `${portal}-auth-server config.json`,
  );
  const apiConfig = parsePortalApiConfig(await configOf("portal-api"), `${portal}-portal-api config.json`);
  const uiConfig = parsePortalUiConfig(await configOf("portal-ui"), `${portal}-portal-ui config.json`);
  const session = await secretOf(`${portal}-session`, ["session-key", "cookie-keys"]);
  const signing = await secretOf(`${portal}-signing-keys`, ["jwks.json"]);
  const files = { sessionKey: session["session-key"] ?? "", cookieKeys: session["cookie-keys"] ?? "" };

  const level = opts.logLevel ?? process.env.WICKED_LOG_LEVEL ?? "info";
  const destination = opts.logDestination ?? pino.destination(1);
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  try {
    const db = createDatabase(opts.databaseUrl, {
      applicationName: "wicked-dev-components",
      maxConnections: opts.maxConnections ?? 4,
    });
    stops.push(() => db.destroy());
    // No proxy stands in front of the local servers: client addresses are the sockets' own.
    const auth = await createAuthServer({
      config: authConfig,
      db,
      secrets: kubeSecretReader(kubeConfig, namespace),
      keys: parseAuthKeys({ jwks: signing["jwks.json"] ?? "", ...files }),
      logger: authServerLogger({ name: "auth-server", level, destination }),
      trustProxy: false,
    });
    await auth.app.listen({ port: ports.auth, host });
    stops.push(() => auth.stop());

    const api = await createPortalApi({
      config: apiConfig,
      db,
      kube: portalKube(kubeConfig, namespace),
      logger: portalApiLogger({ name: "portal-api", level, destination }),
      trustProxy: false,
      clientAddressKey: clientAddressKey(files.sessionKey),
    });
    await api.app.listen({ port: ports.api, host });
    stops.push(() => api.stop());

    const ui = await createPortalUi({
      config: uiConfig,
      secrets: parsePortalUiSecrets(files),
      logger: pino({ name: "portal-ui", level }, destination),
      trustProxy: false,
    });
    await ui.app.listen({ port: ports.portal, host });
    stops.push(() => ui.stop());

    return { urls: { ...wanted, gateway: uiConfig.urls.gateway }, ports, ui, api, auth, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
