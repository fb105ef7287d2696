/**
 * The client address of each request, for the per-address limits: the browser's address when the portal UI
 * forwards it signed with the portal's client address key (component/client-address.ts), else the peer as
 * fastify's trustProxy resolves it (the ingress's last X-Forwarded-For entry). A forwarded address without a
 * valid signature is ignored, so a direct caller cannot pick the address it is counted under.
 */
import type { FastifyInstance } from "fastify";
import { forwardedClientAddress } from "../../component/client-address.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The client's address: the browser's behind the portal UI, else the caller's. */
    clientAddress: string;
  }
}

/** Sets `request.clientAddress` on every request of `app`; without a key no forwarded address is believed. */
export function addClientAddress(app: FastifyInstance, key: string | undefined): void {
  app.decorateRequest("clientAddress", "");
  app.addHook("onRequest", async (request) => {
    const forwarded = forwardedClientAddress(request.headers, key);
    if (forwarded.invalid)
      request.log.warn(
        { peer: request.ip },
        "Ignored a forwarded client address without a valid signature; counted the caller's own address",
      );
    request.clientAddress = forwarded.address ?? request.ip;
  });
}
