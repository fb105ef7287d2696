/**
 * The portal UI's security headers as pure data: a strict Content-Security-Policy (scripts and styles only
 * from the portal's own files, no inline code, no framing, forms only to the portal and its auth server),
 * and the other helmet defaults. Kept here so a unit test can read exactly what is sent.
 */

/** The CSP directives of the portal UI. */
export function cspDirectives(urls: { portal: string; auth: string }): Record<string, string[]> {
  const authOrigin = new URL(urls.auth).origin;
  const portalOrigin = new URL(urls.portal).origin;
  const formAction = ["'self'"];
  // Logging out posts to the portal, which redirects to the auth server's end-session page: form-action
  // covers that redirect, so the auth server's origin is allowed when it is not the portal's own.
  if (authOrigin !== portalOrigin) formAction.push(authOrigin);
  const directives: Record<string, string[]> = {
    "default-src": ["'none'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "https:", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": formAction,
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
    "manifest-src": ["'self'"],
  };
  if (portalOrigin.startsWith("https:")) directives["upgrade-insecure-requests"] = [];
  return directives;
}

/** The CSP header value for the directives. */
export function cspHeader(directives: Record<string, string[]>): string {
  return Object.entries(directives)
    .map(([name, values]) => (values.length > 0 ? `${name} ${values.join(" ")}` : name))
    .join("; ");
}

/**
 * The CSP of the interactive API docs page: the portal's own, with connect-src widened to the origins its
 * "Try it out" calls (the Api on the gateway; for OAuth2 Apis the auth server's token endpoint). Nothing else
 * changes: Swagger UI runs from /assets under the same script-src and style-src. Unparsable URLs are left out.
 */
export function apiDocsCspDirectives(
  urls: { portal: string; auth: string },
  connectTo: string[],
): Record<string, string[]> {
  const directives = cspDirectives(urls);
  const portalOrigin = new URL(urls.portal).origin;
  const origins = new Set<string>();
  for (const url of connectTo) {
    const origin = URL.canParse(url) ? new URL(url).origin : "null";
    if (origin !== "null" && origin !== portalOrigin) origins.add(origin);
  }
  directives["connect-src"] = ["'self'", ...origins];
  return directives;
}
