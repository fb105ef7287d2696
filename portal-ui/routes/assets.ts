/**
 * The portal UI's static files (stylesheet, scripts, icon), read once at start and served with a content hash
 * for long caching, plus the theme stylesheet generated from the portal's branding (its primary colour as
 * CSS variables), so no inline style is needed under the Content-Security-Policy. Swagger UI (the interactive
 * API docs) comes from the installed swagger-ui-dist package and is served from here too: no CDN.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { PortalUiConfig } from "../config.ts";

const FILES: Record<string, string> = {
  "portal.css": "text/css; charset=utf-8",
  "portal.js": "text/javascript; charset=utf-8",
  "api-docs.js": "text/javascript; charset=utf-8",
  "favicon.svg": "image/svg+xml",
};

/** The files of swagger-ui-dist the interactive docs use, served under /assets/swagger-ui/. */
const SWAGGER_UI_FILES: Record<string, string> = {
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui.css": "text/css; charset=utf-8",
  "oauth2-redirect.html": "text/html; charset=utf-8",
  "oauth2-redirect.js": "text/javascript; charset=utf-8",
};

/** Where the installed swagger-ui-dist package is. */
export function swaggerUiDir(): string {
  return dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
}

/** The default primary colour (indigo) when the ApiPortal names none. */
export const DEFAULT_PRIMARY = "#4f46e5";

function channel(hex: string): number {
  const c = Number.parseInt(hex, 16) / 255;
  return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** The relative luminance of a #rrggbb colour (WCAG). */
export function luminance(color: string): number {
  const hex = color.slice(1);
  return (
    0.2126 * channel(hex.slice(0, 2)) + 0.7152 * channel(hex.slice(2, 4)) + 0.0722 * channel(hex.slice(4, 6))
  );
}

/** The WCAG contrast ratio of two #rrggbb colours. */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

function mix(color: string, other: string, weight: number): string {
  const parts = [1, 3, 5].map((i) => {
    const a = Number.parseInt(color.slice(i, i + 2), 16);
    const b = Number.parseInt(other.slice(i, i + 2), 16);
    return Math.round(a * (1 - weight) + b * weight)
      .toString(16)
      .padStart(2, "0");
  });
  return `#${parts.join("")}`;
}

/** Darkens (toward black) or lightens (toward white) until the colour has `ratio` contrast to `background`. */
function readableOn(color: string, background: string, ratio: number): string {
  const toward = luminance(background) > 0.5 ? "#000000" : "#ffffff";
  let current = color;
  for (let w = 0.1; contrast(current, background) < ratio && w <= 1; w += 0.1)
    current = mix(color, toward, w);
  return current;
}

/**
 * The theme stylesheet: the brand colour, a text colour on it with enough contrast, and variants readable
 * as link colours on light and dark backgrounds (WCAG AA, 4.5:1).
 */
export function themeCss(branding: PortalUiConfig["branding"]): string {
  const primary = /^#[0-9a-fA-F]{6}$/.test(branding.primaryColor ?? "")
    ? (branding.primaryColor ?? DEFAULT_PRIMARY).toLowerCase()
    : DEFAULT_PRIMARY;
  const onPrimary = contrast(primary, "#ffffff") >= contrast(primary, "#111827") ? "#ffffff" : "#111827";
  const buttonBg = contrast(primary, onPrimary) >= 4.5 ? primary : readableOn(primary, onPrimary, 4.5);
  const linkLight = readableOn(primary, "#ffffff", 4.8);
  const linkDark = readableOn(primary, "#0f172a", 4.8);
  return `:root{--brand:${primary};--brand-button:${buttonBg};--on-brand:${onPrimary};--link:${linkLight};--brand-soft:${mix(primary, "#ffffff", 0.88)};}
@media (prefers-color-scheme: dark){:root{--link:${linkDark};--brand-soft:${mix(primary, "#0f172a", 0.75)};}}
`;
}

type StaticFile = { body: Buffer; type: string };

/** Serves /assets/* and /assets/swagger-ui/*; returns the version string pages put in asset URLs. */
export function assetRoutes(
  app: FastifyInstance,
  config: PortalUiConfig,
  dir: URL,
  swaggerDir: string = swaggerUiDir(),
): string {
  const files = new Map<string, StaticFile>();
  for (const [name, type] of Object.entries(FILES))
    files.set(name, { body: readFileSync(new URL(name, dir)), type });
  files.set("theme.css", { body: Buffer.from(themeCss(config.branding)), type: "text/css; charset=utf-8" });
  const swaggerFiles = new Map<string, StaticFile>();
  for (const [name, type] of Object.entries(SWAGGER_UI_FILES))
    swaggerFiles.set(name, { body: readFileSync(join(swaggerDir, name)), type });
  const hash = createHash("sha256");
  for (const [name, file] of [...files.entries(), ...swaggerFiles.entries()].sort(([a], [b]) =>
    a.localeCompare(b),
  ))
    hash.update(name).update(file.body);
  const version = hash.digest("hex").slice(0, 12);

  const send = (file: StaticFile | undefined, query: unknown, reply: FastifyReply): FastifyReply => {
    if (!file) return reply.code(404).type("text/plain").send("Not found\n");
    const versioned = (query as Record<string, unknown>).v === version;
    return reply
      .type(file.type)
      .header("Cache-Control", versioned ? "public, max-age=31536000, immutable" : "public, max-age=300")
      .header("ETag", `"${version}"`)
      .send(file.body);
  };
  app.get<{ Params: { file: string } }>("/assets/:file", async (request, reply) =>
    send(files.get(request.params.file), request.query, reply),
  );
  app.get<{ Params: { file: string } }>("/assets/swagger-ui/:file", async (request, reply) =>
    send(swaggerFiles.get(request.params.file), request.query, reply),
  );
  return version;
}
