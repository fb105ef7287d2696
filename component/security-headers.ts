/**
 * helmet's security headers (CSP, HSTS, frame and sniffing protection, …) on every response of a fastify app,
 * including the responses of handlers that hijack the reply. The helmet middleware is built once:
 * @fastify/helmet builds it anew on every request, which re-parses the CSP directives each time.
 */
import type { FastifyInstance } from "fastify";
import helmet, { type HelmetOptions } from "helmet";

/** Adds the headers of `options` to every response of `app` (and its child scopes registered later). */
export function addSecurityHeaders(app: FastifyInstance, options: Readonly<HelmetOptions>): void {
  const apply = helmet(options);
  app.addHook("onRequest", (request, reply, done) => {
    apply(request.raw, reply.raw, (err) => done(err as Error | undefined));
  });
}
