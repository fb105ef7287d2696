import { describe, expect, it } from "vitest";
import { redact, smtpDeliveryError } from "./senders.ts";

const url = "smtp://mailer:s3cr3t-pass@smtp.example.com:587";

describe("smtpDeliveryError", () => {
  it("gives up on a recipient the server refuses for good", () => {
    const err = Object.assign(new Error("Can't send mail - all recipients were rejected: 550 No such user"), {
      code: "EENVELOPE",
      responseCode: 550,
      permanent: true,
    });
    expect(smtpDeliveryError(err, url)).toMatchObject({ permanent: true, channelWide: false });
  });

  it("retries a server that cannot be reached, for every mail of the channel", () => {
    const err = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:2525"), { code: "ESOCKET" });
    const e = smtpDeliveryError(err, url);
    expect(e).toMatchObject({ permanent: false, channelWide: true });
    expect(e.message).toContain(
      "Cannot reach the SMTP server (connect ECONNREFUSED 127.0.0.1:2525); check the host and port",
    );
  });

  it("retries a refused login and says what to fix, without the password", () => {
    const err = Object.assign(new Error("Invalid login: 535 bad credentials for mailer:s3cr3t-pass"), {
      code: "EAUTH",
      responseCode: 535,
      permanent: true,
    });
    const e = smtpDeliveryError(err, url);
    expect(e.permanent).toBe(false);
    expect(e.message).toContain("fix the user and password");
    expect(e.message).not.toContain("s3cr3t-pass");
  });

  it("retries a temporary refusal of one message without blocking the others", () => {
    const err = Object.assign(new Error("451 try later"), {
      code: "EMESSAGE",
      responseCode: 451,
      permanent: false,
    });
    expect(smtpDeliveryError(err, url)).toMatchObject({ permanent: false, channelWide: false });
  });
});

describe("redact", () => {
  it("removes every secret from a message", () => {
    expect(redact("posting to https://hooks.slack.com/services/T/B/XYZ failed", ["/services/T/B/XYZ"])).toBe(
      "posting to https://hooks.slack.com[redacted] failed",
    );
  });
});
