/**
 * Refuses text Postgres cannot store before any route runs: a NUL character or an unpaired UTF-16
 * surrogate (valid in a JSON string, invalid in `text` and `jsonb`). Without this guard such a string would
 * get as far as the database, after the resource was already created in the cluster, and fail with a 500.
 */
import type { FastifyInstance } from "fastify";
import { badRequest } from "../problems.ts";

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL characters is the point
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The JSON pointer of the first string (or key) Postgres cannot store, or undefined. Iterative, so a body of
 * thousands of nested arrays cannot exhaust the stack.
 */
export function findUnstorableText(value: unknown): string | undefined {
  const pending: Array<[unknown, string]> = [[value, ""]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, at] = next;
    if (typeof item === "string") {
      if (UNSTORABLE.test(item)) return at || "/";
    } else if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i -= 1) pending.push([item[i], `${at}/${i}`]);
    } else if (typeof item === "object" && item !== null) {
      for (const [key, child] of Object.entries(item).reverse()) {
        const path = `${at}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
        if (UNSTORABLE.test(key)) return path;
        pending.push([child, path]);
      }
    }
  }
  return undefined;
}

/** Adds the guard to every route of `app`. */
export function addTextGuard(app: FastifyInstance): void {
  app.addHook("preValidation", async (request) => {
    const parts = { body: request.body, querystring: request.query, params: request.params };
    for (const [part, value] of Object.entries(parts)) {
      const at = findUnstorableText(value);
      if (at === undefined) continue;
      const path = `/${part}${at === "/" ? "" : at}`;
      throw badRequest(
        "invalid-text",
        `The request ${part} has text that cannot be stored at ${path}: a NUL character or an unpaired UTF-16 surrogate. Send valid Unicode text.`,
        [{ path, message: "contains a NUL character or an unpaired surrogate" }],
      );
    }
  });
}
