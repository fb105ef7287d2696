import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { closeWithin } from "./close.ts";

describe("closeWithin", () => {
  it("closes although a client holds a connection that never sent a request", async () => {
    const app = Fastify();
    app.get("/", async () => "ok");
    await app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = app.server.address() as AddressInfo;
    const preconnected = connect(port, "127.0.0.1");
    await once(preconnected, "connect");

    await closeWithin(app, 100);

    await once(preconnected, "close");
    expect(app.server.listening).toBe(false);
  });

  it("lets a request in flight finish within the grace", async () => {
    const app = Fastify();
    app.get("/slow", async () => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      return "done";
    });
    const address = await app.listen({ port: 0, host: "127.0.0.1" });
    const answer = fetch(`${address}/slow`).then((response) => response.text());
    await new Promise((resolve) => setTimeout(resolve, 50));

    await closeWithin(app, 1_000);

    expect(await answer).toBe("done");
  });
});
