import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { fetchDocumentText, OpenApiFetchError, openApiDocuments } from "./openapi-fetch.ts";
import { OpenApiDocumentError } from "./openapi-rewrite.ts";

const DOCUMENT = "openapi: 3.0.3\ninfo: {title: Orders, version: '1'}\npaths: {}\n";

/** A document server: a handler per path, and how often each path was asked for. */
async function documentServer(routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void>) {
  const hits: Record<string, number> = {};
  const server = createServer((req, res) => {
    const path = req.url ?? "/";
    hits[path] = (hits[path] ?? 0) + 1;
    const route = routes[path];
    if (route) route(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  servers.push(close);
  return { url, hits };
}

const servers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((close) => close()));
});

/** The error a promise rejects with. */
async function refusal(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a refusal");
}

describe("OpenAPI documents at a URL", () => {
  it("security #6: concurrent and repeated requests fetch a document once, until the cache time ends", async () => {
    const docs = await documentServer({
      "/openapi.yaml": (_req, res) => setTimeout(() => res.end(DOCUMENT), 50),
    });
    let now = 0;
    const documents = openApiDocuments({ ttlMs: 300_000, now: () => now });
    const url = `${docs.url}/openapi.yaml`;
    const first = await Promise.all(Array.from({ length: 10 }, () => documents.get("team/orders", url)));
    for (let i = 0; i < 5; i++) await documents.get("team/orders", url);
    expect(first[0]).toMatchObject({ openapi: "3.0.3" });
    expect(docs.hits["/openapi.yaml"]).toBe(1);
    now = 300_001;
    await documents.get("team/orders", url);
    expect(docs.hits["/openapi.yaml"]).toBe(2);
  });

  it("security #6: remembers a failed fetch for a shorter time, and a document that is not OpenAPI too", async () => {
    const docs = await documentServer({
      "/down": (_req, res) => res.writeHead(503).end("db-password: s3cr3t"),
      "/config": (_req, res) => res.end("db-password: s3cr3t-value\n  - nested: [oops"),
    });
    let now = 0;
    const documents = openApiDocuments({ ttlMs: 300_000, failureTtlMs: 30_000, now: () => now });
    const refusals: Error[] = [];
    for (let i = 0; i < 5; i++) {
      refusals.push(await refusal(documents.get("team/down", `${docs.url}/down`)));
      refusals.push(await refusal(documents.get("team/config", `${docs.url}/config`)));
    }
    expect(docs.hits).toEqual({ "/down": 1, "/config": 1 });
    const [down, config] = refusals;
    expect(down).toBeInstanceOf(OpenApiFetchError);
    expect(down?.message).toContain("HTTP 503");
    expect(config).toBeInstanceOf(OpenApiDocumentError);
    for (const err of refusals) expect(err.message).not.toContain("s3cr3t");
    now = 30_001;
    await refusal(documents.get("team/down", `${docs.url}/down`));
    expect(docs.hits["/down"]).toBe(2);
  });

  it("security #6: follows redirects only within the document's origin, and only a few", async () => {
    const elsewhere = await documentServer({ "/openapi.yaml": (_req, res) => res.end(DOCUMENT) });
    const docs = await documentServer({
      "/old": (_req, res) => res.writeHead(301, { location: "/openapi.yaml" }).end(),
      "/openapi.yaml": (_req, res) => res.end(DOCUMENT),
      "/away": (_req, res) => res.writeHead(302, { location: `${elsewhere.url}/openapi.yaml` }).end(),
      "/loop": (_req, res) => res.writeHead(307, { location: "/loop" }).end(),
    });
    expect(await fetchDocumentText(`${docs.url}/old`)).toBe(DOCUMENT);
    const away = await refusal(fetchDocumentText(`${docs.url}/away`));
    expect(away).toBeInstanceOf(OpenApiFetchError);
    expect(away.message).toContain("redirects to another host");
    expect(elsewhere.hits).toEqual({});
    const loop = await refusal(fetchDocumentText(`${docs.url}/loop`));
    expect(loop.message).toContain("too many redirects");
    expect(docs.hits["/loop"]).toBe(4);
  });

  it("security #6: stops reading a body without Content-Length once it passes the size limit", async () => {
    const chunk = Buffer.alloc(64 * 1024, "a");
    let written = 0;
    const docs = await documentServer({
      "/huge": (_req, res) => {
        res.writeHead(200, { "content-type": "application/yaml" });
        const more = () => {
          // 64 MiB unless the reader hangs up; written counts what the socket took.
          while (written < 64 * 1024 * 1024 && !res.destroyed) {
            written += chunk.length;
            if (!res.write(chunk)) return void res.once("drain", more);
          }
          res.end();
        };
        res.on("close", () => res.destroy());
        more();
      },
      "/declared": (_req, res) => {
        res.writeHead(200, { "content-length": String(6 * 1024 * 1024) });
        res.write(chunk);
      },
    });
    const limits = { maxBytes: 1024 * 1024, timeoutMs: 5000, maxRedirects: 3 };
    const huge = await refusal(fetchDocumentText(`${docs.url}/huge`, limits));
    expect(written).toBeLessThan(16 * 1024 * 1024);
    expect(huge.message).toContain("larger than 1 MiB");
    const declared = await refusal(fetchDocumentText(`${docs.url}/declared`, limits));
    expect(declared.message).toContain("larger than 1 MiB");
  });
});
