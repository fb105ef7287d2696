// Part of the Kong TEST DOUBLE (test/kong): never imported by the product.
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Json } from "./json.ts";

/** The version the double claims to be, in `Server`, `Via` and `GET /`. */
export const KONG_VERSION = "3.9.0";

/** Reads a request body completely. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Answers with a JSON body (or no body for 204), the way Kong's `kong.response.exit` does. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: Json | undefined,
  headers: { [name: string]: string } = {},
): void {
  const payload = body === undefined || status === 204 ? undefined : JSON.stringify(body);
  res.writeHead(status, {
    ...(payload === undefined ? {} : { "Content-Type": "application/json; charset=utf-8" }),
    "Content-Length": String(payload === undefined ? 0 : Buffer.byteLength(payload)),
    Server: `kong/${KONG_VERSION}`,
    ...headers,
  });
  res.end(payload);
}

/** Starts listening and resolves with the bound port. */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Stops listening and drops open connections. */
export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
