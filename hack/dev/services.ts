/**
 * What `make dev` starts besides wicked so a person can finish the journey on a laptop: a mail catcher with
 * a web inbox (MailDev), a local gateway (the Kong TEST DOUBLE from test/kong — never the product's
 * gateway; a real Kong through KONG_ADMIN_URL instead) and an echo upstream for the sample APIs.
 */
import { mkdirSync } from "node:fs";
import { MailDev } from "maildev";
import { startKongDouble } from "../../test/kong/kong-double.ts";
import { availablePort } from "./local-urls.ts";

/** A running mail catcher. */
export interface MailCatcher {
  /** What the portal sends its mails to. */
  smtpUrl: string;
  /** The web inbox. */
  inboxUrl: string;
  stop(): Promise<void>;
}

/** MailDev on 1025 (SMTP) and 1080 (inbox) where free; mails are kept in `mailDirectory` across restarts. */
export async function startMailCatcher(host: string, mailDirectory: string): Promise<MailCatcher> {
  mkdirSync(mailDirectory, { recursive: true });
  const [smtp, web] = [await availablePort(1025, host), await availablePort(1080, host)];
  const maildev = new MailDev({ smtp, web, ip: host, webIp: host, mailDirectory, silent: true });
  await maildev.start();
  return {
    smtpUrl: `smtp://${host}:${smtp}`,
    inboxUrl: `http://${host}:${web}`,
    stop: () => maildev.stop(),
  };
}

/** A running local gateway. */
export interface LocalGateway {
  adminUrl: string;
  proxyUrl: string;
  stop(): Promise<void>;
}

/** The Kong test double on Kong's own ports (8001 admin, 8000 proxy) where free. */
export async function startLocalGateway(host: string): Promise<LocalGateway> {
  const kong = await startKongDouble({
    host,
    adminPort: await availablePort(8001, host),
    proxyPort: await availablePort(8000, host),
  });
  return { adminUrl: kong.adminUrl, proxyUrl: kong.proxyUrl, stop: () => kong.stop() };
}
