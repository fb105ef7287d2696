/**
 * The pino logger of the portal's HTTP components: JSON lines, with every place a secret can appear
 * redacted (authorization and cookie headers, passwords, tokens, codes, API keys and client secrets in logged
 * objects, secrets in query strings), so a log shipped to a shared system never carries a credential.
 */
import { type DestinationStream, type Logger, pino } from "pino";

/** Fields whose values never reach the log, at any of the first three levels of a logged object. */
const SECRET_FIELDS = [
  "authorization",
  "cookie",
  "set-cookie",
  "password",
  "currentPassword",
  "newPassword",
  "token",
  "verifyToken",
  "resetToken",
  "apiKey",
  "clientSecret",
  "client_secret",
  "code",
  "code_verifier",
  "verifier",
  "access_token",
  "refresh_token",
  "id_token",
  "_csrf",
];

/** The pino `redact` paths: each field at the top and the next two levels. */
export const REDACT_PATHS = SECRET_FIELDS.flatMap((f) => {
  const key = /^[A-Za-z_$][\w$]*$/.test(f) ? `.${f}` : `["${f}"]`;
  return [key.startsWith(".") ? f : `["${f}"]`, `*${key}`, `*.*${key}`];
});

/** Query parameters whose values are secrets (the authorization and callback URLs carry codes and states). */
const SECRET_PARAMS = new Set([
  "token",
  "code",
  "code_verifier",
  "client_secret",
  "access_token",
  "refresh_token",
  "id_token",
  "state",
  "nonce",
]);

/** A URL path with the values of secret query parameters replaced by `[Redacted]`. */
export function redactUrl(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const name of [...params.keys()]) {
    if (SECRET_PARAMS.has(name)) params.set(name, "[Redacted]");
  }
  return `${url.slice(0, q)}?${params.toString()}`;
}

/** Creates a component's logger; `destination` lets tests read what was logged. */
export function createLogger(opts: {
  name: string;
  level?: string;
  destination?: DestinationStream;
}): Logger {
  return pino(
    {
      name: opts.name,
      level: opts.level ?? process.env.WICKED_LOG_LEVEL ?? "info",
      redact: { paths: REDACT_PATHS, censor: "[Redacted]" },
      serializers: {
        req: (req: { method?: string; url?: string; ip?: string }) => ({
          method: req.method,
          url: req.url === undefined ? undefined : redactUrl(req.url),
          remoteAddress: req.ip,
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
    },
    opts.destination,
  );
}
