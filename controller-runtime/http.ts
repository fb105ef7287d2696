/**
 * The manager's two small HTTP servers: /metrics for Prometheus and /healthz + /readyz for the kubelet's
 * probes. Plain node:http: two fixed GET routes do not justify a framework.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A route's answer. */
export interface RouteResponse {
  status: number;
  contentType: string;
  body: string;
}

/** GET routes by path. */
export type Routes = Record<string, () => RouteResponse | Promise<RouteResponse>>;

/** A listening server and how to reach it. */
export interface ListeningServer {
  /** `http://127.0.0.1:<port>` (or the bind address). */
  url: string;
  close(): Promise<void>;
}

/** Serves GET routes on a port (0 = a free port) and resolves once listening. */
export async function serve(routes: Routes, port: number, host?: string): Promise<ListeningServer> {
  const server = createServer((req, res) => void handle(routes, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port: actual } = server.address() as AddressInfo;
  const shownHost = host === undefined || host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return {
    url: `http://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${actual}`,
    close: () => close(server),
  };
}

async function handle(routes: Routes, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  const route = routes[path];
  if (!route) return reply(res, { status: 404, contentType: "text/plain", body: "not found\n" });
  if (req.method !== "GET" && req.method !== "HEAD") {
    return reply(res, { status: 405, contentType: "text/plain", body: "method not allowed\n" });
  }
  try {
    reply(res, await route());
  } catch (err) {
    reply(res, {
      status: 500,
      contentType: "text/plain",
      body: `${err instanceof Error ? err.message : String(err)}\n`,
    });
  }
}

function reply(res: ServerResponse, response: RouteResponse): void {
  res.writeHead(response.status, { "Content-Type": response.contentType });
  res.end(response.body);
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}
