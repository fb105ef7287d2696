/** Probes, metrics and the OpenAPI document: the routes every deployment and client tooling relies on. */
import { sql } from "kysely";
import "@fastify/swagger";
import type { Registry } from "prom-client";
import { Type } from "typebox";
import type { PortalApp, PortalContext } from "../context.ts";

const Text = { description: "Plain text.", content: { "text/plain": { schema: Type.String() } } };

/** GET /healthz, /readyz, /metrics and /openapi.json. */
export async function systemRoutes(app: PortalApp, ctx: PortalContext, metrics: Registry): Promise<void> {
  app.get(
    "/healthz",
    {
      schema: {
        tags: ["system"],
        summary: "Liveness: the process answers.",
        response: { 200: Text },
      },
    },
    async (_request, reply) => reply.type("text/plain").send("ok\n"),
  );

  app.get(
    "/readyz",
    {
      schema: {
        tags: ["system"],
        summary: "Readiness: the database answers.",
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
        tags: ["system"],
        summary: "Prometheus metrics.",
        response: { 200: Text },
      },
    },
    async (_request, reply) => reply.type(metrics.contentType).send(await metrics.metrics()),
  );

  app.get(
    "/openapi.json",
    {
      schema: {
        tags: ["system"],
        summary: "This API's OpenAPI 3.1 document.",
        response: { 200: Type.Object({}, { additionalProperties: true }) },
      },
    },
    async () => app.swagger(),
  );
}
