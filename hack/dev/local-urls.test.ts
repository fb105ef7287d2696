import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { choosePorts, localUrls, renderedFor } from "./local-urls.ts";

describe("choosePorts", () => {
  it("keeps a free preferred port, replaces a taken one and 0 by free ports, and never gives one port twice", async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const taken = (busy.address() as { port: number }).port;
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, "127.0.0.1", resolve));
    const wanted = (free.address() as { port: number }).port;
    await new Promise<void>((resolve) => free.close(() => resolve()));
    try {
      const ports = await choosePorts({ portal: wanted, api: taken, auth: 0 });
      expect(ports.portal).toBe(wanted);
      expect(ports.api).not.toBe(taken);
      expect(ports.auth).toBeGreaterThan(0);
      expect(new Set([ports.portal, ports.api, ports.auth]).size).toBe(3);
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });
});

describe("renderedFor", () => {
  const urls = localUrls({ portal: 3000, api: 3001, auth: 3010 });

  it("puts the auth server's issuer under /auth on its own port", () => {
    expect(urls).toEqual({
      portal: "http://127.0.0.1:3000",
      api: "http://127.0.0.1:3001",
      auth: "http://127.0.0.1:3010/auth",
    });
  });

  it("accepts a config.json rendered for the URLs and refuses one rendered for an earlier spec", () => {
    expect(renderedFor({ urls: { ...urls, gateway: "http://kong" } }, urls)).toBe(true);
    expect(renderedFor({ urls: { ...urls, portal: "https://developer.shop.example.com" } }, urls)).toBe(
      false,
    );
    expect(renderedFor({}, urls)).toBe(false);
    expect(renderedFor(undefined, urls)).toBe(false);
  });
});
