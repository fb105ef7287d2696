/**
 * Where `wicked dev` runs the portal's components: their ports (DESIGN.md's defaults where free), their local
 * URLs, and whether a configuration the operator rendered is meant for those URLs. Pure apart from probing
 * ports.
 */
import { createServer } from "node:net";
import { freePort } from "../controlplane/controlplane.ts";

/** The ports of the three components. */
export interface ComponentPorts {
  portal: number;
  api: number;
  auth: number;
}

/** The ports DESIGN.md gives the components: portal-ui 3000, portal-api 3001, auth-server 3010. */
export const DEFAULT_PORTS: ComponentPorts = { portal: 3000, api: 3001, auth: 3010 };

/** Where the components are reached; `gateway` is the ApiPortal's (the Kong proxy). */
export interface PortalUrls {
  portal: string;
  api: string;
  auth: string;
  gateway: string;
}

/** Whether a port can be bound on `host` right now. */
async function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** `preferred` when it can be bound on `host` now, otherwise (and for 0) a free port. */
export async function availablePort(preferred: number, host = "127.0.0.1"): Promise<number> {
  return preferred > 0 && (await portFree(preferred, host)) ? preferred : freePort();
}

/**
 * The preferred ports where they are free, free ports otherwise (and for 0). Nothing holds them afterwards,
 * so a port can still be taken before the component listens; listening then fails with EADDRINUSE.
 */
export async function choosePorts(
  preferred: Partial<ComponentPorts> = {},
  host = "127.0.0.1",
): Promise<ComponentPorts> {
  const chosen: ComponentPorts = { ...DEFAULT_PORTS, ...preferred };
  const taken = new Set<number>();
  for (const key of ["portal", "api", "auth"] as const) {
    const port = chosen[key];
    chosen[key] = port > 0 && !taken.has(port) && (await portFree(port, host)) ? port : await freePort();
    taken.add(chosen[key]);
  }
  return chosen;
}

/** The local URLs of the components on `ports`; the auth server's issuer lives under /auth. */
export function localUrls(ports: ComponentPorts, host = "127.0.0.1"): Omit<PortalUrls, "gateway"> {
  return {
    portal: `http://${host}:${ports.portal}`,
    api: `http://${host}:${ports.api}`,
    auth: `http://${host}:${ports.auth}/auth`,
  };
}

/** Whether a rendered config.json was rendered for these URLs (and not for an earlier spec). */
export function renderedFor(config: unknown, urls: Partial<PortalUrls>): boolean {
  if (typeof config !== "object" || config === null) return false;
  const rendered = (config as { urls?: Record<string, unknown> }).urls ?? {};
  return Object.entries(urls).every(([key, value]) => rendered[key] === value);
}
