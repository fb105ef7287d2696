/**
 * Stopping an HTTP component. Fastify's close() lets requests in flight finish, but it also waits for every
 * connection that never sent a request — a browser's preconnected socket keeps it open for minutes. After a
 * grace the remaining connections are cut, so a pod terminates and `make dev` stops promptly.
 */

import type { FastifyInstance } from "fastify";

export const CLOSE_GRACE_MS = 5_000;

/** Closes `app`, giving requests in flight `graceMs` before every remaining connection is closed. */
export async function closeWithin(app: FastifyInstance, graceMs = CLOSE_GRACE_MS): Promise<void> {
  const cut = setTimeout(() => app.server.closeAllConnections(), graceMs);
  try {
    await app.close();
  } finally {
    clearTimeout(cut);
  }
}
