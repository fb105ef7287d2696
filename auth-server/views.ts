/**
 * The auth server's HTML pages: login, sign-up, consent, messages and errors. Plain template functions with
 * every interpolated value escaped; no scripts, so the pages work under a strict Content-Security-Policy.
 */

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** What every page shows. */
export interface PageFrame {
  portalName: string;
  title: string;
}

function page(frame: PageFrame, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(frame.title)} · ${escapeHtml(frame.portalName)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.5rem}label{display:block;margin:.75rem 0 .25rem}input{width:100%;padding:.5rem;box-sizing:border-box}
button{margin-top:1rem;padding:.6rem 1rem;width:100%}p.error{color:#a00;background:#fee;padding:.5rem}
p.notice{background:#eef;padding:.5rem}ul.scopes{padding-left:1.2rem}.alt{margin-top:1.5rem}
</style>
</head>
<body>
<main>
<h1>${escapeHtml(frame.title)}</h1>
${body}
</main>
</body>
</html>
`;
}

/** An upstream identity provider button. */
export interface ProviderLink {
  name: string;
  displayName: string;
  href: string;
}

/** The login page. */
export function loginPage(
  frame: PageFrame,
  opts: {
    action: string;
    csrfToken: string;
    email?: string;
    error?: string;
    notice?: string;
    localEnabled: boolean;
    signupHref?: string;
    resendHref?: string;
    providers: ProviderLink[];
    abortHref: string;
  },
): string {
  const error = opts.error ? `<p class="error" role="alert">${escapeHtml(opts.error)}</p>` : "";
  const notice = opts.notice ? `<p class="notice">${escapeHtml(opts.notice)}</p>` : "";
  const local = opts.localEnabled
    ? `<form method="post" action="${escapeHtml(opts.action)}" autocomplete="on">
<input type="hidden" name="_csrf" value="${escapeHtml(opts.csrfToken)}">
<label for="email">Email</label>
<input id="email" name="email" type="email" required autocomplete="username" value="${escapeHtml(opts.email ?? "")}">
<label for="password">Password</label>
<input id="password" name="password" type="password" required autocomplete="current-password">
<button type="submit">Log in</button>
</form>`
    : "";
  const providers = opts.providers
    .map((p) => `<p><a href="${escapeHtml(p.href)}">Log in with ${escapeHtml(p.displayName)}</a></p>`)
    .join("\n");
  const signup = opts.signupHref
    ? `<p><a href="${escapeHtml(opts.signupHref)}">Create an account</a></p>`
    : "";
  const resend = opts.resendHref
    ? `<p><a href="${escapeHtml(opts.resendHref)}">Send the verification email again</a></p>`
    : "";
  return page(
    frame,
    `${error}${notice}${local}<div class="alt">${providers}${signup}${resend}<p><a href="${escapeHtml(opts.abortHref)}">Cancel</a></p></div>`,
  );
}

/** The sign-up page. */
export function signupPage(
  frame: PageFrame,
  opts: {
    action: string;
    csrfToken: string;
    email?: string;
    displayName?: string;
    error?: string;
    problems?: string[];
    minLength: number;
    loginHref: string;
  },
): string {
  const problems = (opts.problems ?? []).map((p) => `<li>${escapeHtml(p)}</li>`).join("");
  const error = opts.error
    ? `<div class="error" role="alert"><p class="error">${escapeHtml(opts.error)}</p>${problems ? `<ul>${problems}</ul>` : ""}</div>`
    : "";
  return page(
    frame,
    `${error}<form method="post" action="${escapeHtml(opts.action)}">
<input type="hidden" name="_csrf" value="${escapeHtml(opts.csrfToken)}">
<label for="email">Email</label>
<input id="email" name="email" type="email" required autocomplete="email" value="${escapeHtml(opts.email ?? "")}">
<label for="displayName">Name</label>
<input id="displayName" name="displayName" required maxlength="200" autocomplete="name" value="${escapeHtml(opts.displayName ?? "")}">
<label for="password">Password (at least ${opts.minLength} characters)</label>
<input id="password" name="password" type="password" required minlength="${opts.minLength}" autocomplete="new-password">
<button type="submit">Create account</button>
</form>
<p class="alt"><a href="${escapeHtml(opts.loginHref)}">I have an account</a></p>`,
  );
}

/** The consent page for applications other than the portal's own. */
export function consentPage(
  frame: PageFrame,
  opts: { action: string; abortHref: string; csrfToken: string; clientName: string; scopes: string[] },
): string {
  const scopes = opts.scopes.map((s) => `<li>${escapeHtml(s)}</li>`).join("");
  return page(
    frame,
    `<p><strong>${escapeHtml(opts.clientName)}</strong> asks for access on your behalf:</p>
<ul class="scopes">${scopes || "<li>your identity</li>"}</ul>
<form method="post" action="${escapeHtml(opts.action)}">
<input type="hidden" name="_csrf" value="${escapeHtml(opts.csrfToken)}">
<button type="submit">Allow</button>
</form>
<p class="alt"><a href="${escapeHtml(opts.abortHref)}">Deny</a></p>`,
  );
}

/** A page with a message and an optional link onwards. */
export function messagePage(
  frame: PageFrame,
  opts: { message: string; error?: boolean; link?: { href: string; text: string } },
): string {
  const cls = opts.error ? "error" : "notice";
  const link = opts.link
    ? `<p><a href="${escapeHtml(opts.link.href)}">${escapeHtml(opts.link.text)}</a></p>`
    : "";
  return page(
    frame,
    `<p class="${cls}" role="${opts.error ? "alert" : "status"}">${escapeHtml(opts.message)}</p>${link}`,
  );
}

/** The OAuth error page (when the client cannot be redirected to, e.g. an unregistered redirect URI). */
export function errorPage(frame: PageFrame, out: Record<string, string>): string {
  const rows = Object.entries(out)
    .map(([k, v]) => `<p><strong>${escapeHtml(k)}</strong>: ${escapeHtml(v)}</p>`)
    .join("\n");
  return page(frame, `<div class="error" role="alert">${rows}</div>`);
}
