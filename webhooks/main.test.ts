import { describe, expect, it } from "vitest";
import { certificateExpiry, webhooksConfigFromEnv } from "./main.ts";

/** A self-signed certificate valid until 2036-11-25T16:18:21Z. */
const CERT = `-----BEGIN CERTIFICATE-----
MIIBdDCCARmgAwIBAgIUPCJMtMYIpM9UIWcDOBEBbWyocdgwCgYIKoZIzj0EAwIw
DzENMAsGA1UEAwwEdGVzdDAeFw0yNjExMjgxNjE4MjFaFw0zNjExMjUxNjE4MjFa
MA8xDTALBgNVBAMMBHRlc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAR7c/u1
8QAULjkW0IW3L67DAg45g+9QR0f8UW+MyEt34dRxt3NXShuN1Xhy9gUc7jCUtMo/
HM5oHGENePoC6uhGo1MwUTAdBgNVHQ4EFgQUo6KasMWptUawOKbI1GrANQph6iYw
HwYDVR0jBBgwFoAUo6KasMWptUawOKbI1GrANQph6iYwDwYDVR0TAQH/BAUwAwEB
/zAKBggqhkjOPQQDAgNJADBGAiEAu1yLql2l8ov0SVABxHyhjP29vwh830x2Cu4D
k+tXsa4CIQC2LUw+BeRAT0R9l8szbzyIC3KJ6d+S4/F7rf2xdIDsQA==
-----END CERTIFICATE-----
`;

describe("certificateExpiry", () => {
  it("reads the expiry and calls it soon within 30 days", () => {
    expect(certificateExpiry(CERT, new Date("2036-01-01T00:00:00Z"))).toEqual({
      expires: new Date("2036-11-25T16:18:21Z"),
      soon: false,
    });
    expect(certificateExpiry(CERT, new Date("2036-11-01T00:00:00Z")).soon).toBe(true);
  });
});

describe("webhooksConfigFromEnv", () => {
  it("defaults to the chart's port and certificate directory", () => {
    expect(webhooksConfigFromEnv({})).toEqual({
      port: 9443,
      certDir: "/etc/wicked/tls",
      certReloadSeconds: 60,
      logLevel: "info",
    });
  });

  it("takes every setting from its variable", () => {
    expect(
      webhooksConfigFromEnv({
        KUBECONFIG: "/k",
        WICKED_WEBHOOK_PORT: "8443",
        WICKED_WEBHOOK_BIND_ADDRESS: "127.0.0.1",
        WICKED_WEBHOOK_CERT_DIR: "/tls",
        WICKED_WEBHOOK_CERT_RELOAD_SECONDS: "5",
        WICKED_LOG_LEVEL: "debug",
      }),
    ).toEqual({
      kubeconfig: "/k",
      host: "127.0.0.1",
      port: 8443,
      certDir: "/tls",
      certReloadSeconds: 5,
      logLevel: "debug",
    });
  });
});
