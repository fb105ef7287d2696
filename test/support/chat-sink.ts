/**
 * An HTTP server standing in for Slack, Microsoft Teams and RocketChat incoming webhooks: it collects every
 * JSON POST it accepts, and can answer with an error or refuse connections for a while (an outage). For
 * tests only.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** A webhook call the sink accepted (answered 200). */
export interface ReceivedPost {
  /** The request path, which tells the targets apart (e.g. `/slack/team`). */
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  /** The Idempotency-Key header, if sent. */
  idempotencyKey?: string;
  receivedAt: Date;
}

/** A running sink. */
export interface ChatSink {
  port: number;
  /** The URL of a webhook path on the sink. */
  url(path: string): string;
  /** Calls answered 200, in order. */
  posts: ReceivedPost[];
  /** Calls answered with an error status. */
  failures: number;
  /** Answer every call with this status (e.g. 500) until set back to undefined. */
  failWith: number | undefined;
  readonly running: boolean;
  /** Stops listening and drops connections: calls are refused. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

/** Starts a sink on a free port. */
export async function startChatSink(host = "127.0.0.1"): Promise<ChatSink> {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  let port = 0;
  const sink: ChatSink = {
    port: 0,
    url: (path) => `http://${host}:${port}${path.startsWith("/") ? path : `/${path}`}`,
    posts: [],
    failures: 0,
    failWith: undefined,
    get running() {
      return server !== undefined;
    },
    async start() {
      if (server) return;
      const s = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          if (sink.failWith !== undefined) {
            sink.failures++;
            res
              .writeHead(sink.failWith, { "Content-Type": "text/plain" })
              .end("failure injected by the test");
            return;
          }
          if (req.method !== "POST") {
            res.writeHead(405).end();
            return;
          }
          let body: unknown;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          } catch {
            res.writeHead(400, { "Content-Type": "text/plain" }).end("invalid_payload");
            return;
          }
          const key = req.headers["idempotency-key"];
          sink.posts.push({
            path: req.url ?? "/",
            headers: req.headers,
            body,
            ...(typeof key === "string" ? { idempotencyKey: key } : {}),
            receivedAt: new Date(),
          });
          res.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
        });
      });
      s.on("connection", (socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
      });
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(port, host, () => resolve());
      });
      server = s;
      port = (s.address() as AddressInfo).port;
      sink.port = port;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
  await sink.start();
  return sink;
}
