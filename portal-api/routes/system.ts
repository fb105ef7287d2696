/** Probes, metrics and the OpenAPI document: the routes every deployment and client tooling relies on. */
import { sql } from "kysely";
import "@fastify/swagger";
import type { Registry } from "prom-client";
import { Type } from "typebox";
import type { PortalApp, PortalContext } from "../context.ts";
import { Security } from "../schemas.ts";

const Text = { description: "Plain text.", content: { "text/plain": { schema: Type.String() } } };

/** GET /healthz, /readyz, /metrics and /openapi.json. */
export async function systemRoutes(app: PortalApp, ctx: PortalContext, metrics: Registry): Promise<void> {
  app.get(
    "/healthz",
    {
      schema: {
        operationId: "checkLiveness",
        tags: ["system"],
        summary: "Liveness: the process answers.",
        security: Security.none,
        response: { 200: Text },
      },
    },
    async (_request, reply) => reply.type("text/plain").send("ok\n"),
  );

  app.get(
    "/readyz",
    {
      schema: {
        operationId: "checkReadiness",
        tags: ["system"],
        summary: "Readiness: the database answers.",
        security: Security.none,
        response: { 200: Text, 503: Text },
      },
    },
    async (request, reply) => {
      try {
        await sql`SELECT 1`.execute(ctx.db);
        return reply.type("text/plain").send("ok\n");
      } catch (err) {
        request.log.warn({ err }, "Readiness check failed: the database does not answer");
        return reply.code(503).type("text/plain").send("database unavailable\n");
      }
    },
  );

  app.get(
    "/metrics",
    {
      schema: {
        operationId: "getMetrics",
        tags: ["system"],
        summary: "Prometheus metrics.",
        security: Security.none,
        response: { 200: Text },
      },
    },
    async (_request, reply) => reply.type(metrics.contentType).send(await metrics.metrics()),
  );

  app.get(
    "/openapi.json",
    {
      schema: {
        operationId: "getOpenApiDocument",
        tags: ["system"],
        summary: "This API's OpenAPI 3.1 document.",
        security: Security.none,
        response: { 200: Type.Object({}, { additionalProperties: true }) },
      },
    },
    async () => app.swagger(),
  );
}
