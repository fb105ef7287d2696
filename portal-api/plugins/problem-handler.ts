/**
 * Every error answer of the portal API is `application/problem+json`: route errors, validation failures,
 * unknown routes, rate limits and internal errors alike (the latter logged, with a generic detail).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { HttpProblem, problemBody, toProblem } from "../problems.ts";
import { ProblemRef, ProblemSchema } from "../schemas.ts";

/** Content of a problem response in a route schema. */
export const problemContent = {
  description: "An error, as problem details.",
  content: { "application/problem+json": { schema: ProblemRef } },
};

/**
 * Registers the shared Problem schema, the error and not-found handlers, and adds `4XX`/`5XX` problem
 * responses to every route schema so the OpenAPI document describes them. Call before registering routes.
 */
export function addProblemHandling(app: FastifyInstance): void {
  app.addSchema(ProblemSchema);
  app.addHook("onRoute", (route) => {
    if (!route.schema) return;
    const response = (route.schema.response ?? {}) as Record<string, unknown>;
    response["4xx"] ??= problemContent;
    response["5xx"] ??= problemContent;
    route.schema.response = response;
  });
  app.setErrorHandler((err, request, reply) => {
    let problem = toProblem(err);
    if (!problem) {
      request.log.error({ err }, "Failed to answer a request");
      problem = new HttpProblem(
        500,
        "internal-error",
        "Internal server error",
        `Something went wrong on our side; try again, and tell the portal's operators if it persists (request ${request.id}).`,
      );
    }
    for (const [name, value] of Object.entries(problem.headers)) reply.header(name, value);
    return reply
      .code(problem.status)
      .type("application/problem+json")
      .send(problemBody(problem, request.url.split("?")[0]));
  });
  app.setNotFoundHandler((request, reply) => {
    const problem = new HttpProblem(
      404,
      "no-such-route",
      "Not found",
      `There is no ${request.method} ${request.url.split("?")[0]}; see /openapi.json for the routes.`,
    );
    return reply.code(404).type("application/problem+json").send(problemBody(problem));
  });
}

/**
 * fastify's `frameworkErrors`: errors raised before routing (a URL that is not valid percent-encoding), as
 * problem+json like every other error.
 */
export function frameworkErrors(
  err: Error & { statusCode?: number },
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const problem = new HttpProblem(
    err.statusCode ?? 400,
    "bad-url",
    "Bad request",
    `The request URL is not valid (${err.message}); percent-encode special characters.`,
  );
  reply
    .code(problem.status)
    .type("application/problem+json")
    .send(problemBody(problem, request.url.split("?")[0]));
}
