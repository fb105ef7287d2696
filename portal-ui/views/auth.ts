/** The account pages of visitors: sign up, log in, verify the email address, forgotten password. */
import type { ApiProblem } from "../api-client.ts";
import { html, type SafeHtml } from "../html.ts";
import { alert, field, postForm, problemAlert } from "./components.ts";
import type { PageContext } from "./context.ts";
import { layout } from "./layout.ts";

function narrow(ctx: PageContext, title: string, lead: string | SafeHtml, body: SafeHtml): SafeHtml {
  return layout(ctx, { title, lead, body: html`<div class="narrow card">${body}</div>` });
}

/** Problems of one field, for showing beside it. */
function fieldError(problem: ApiProblem | undefined, path: string): string | undefined {
  const messages = problem?.errors
    .filter((e) => e.path === path || e.path === `/body${path}`)
    .map((e) => e.message);
  return messages && messages.length > 0 ? messages.join(" ") : undefined;
}

/** The sign-up form. */
export function signupPage(
  ctx: PageContext,
  values: { email?: string; displayName?: string } = {},
  problem?: ApiProblem,
): SafeHtml {
  const providers = ctx.config.login.providers;
  const body = html`${problemAlert(problem, "Your account was not created")}
${postForm(
  "/signup",
  ctx.csrfToken,
  html`${field({ name: "displayName", label: "Your name", value: values.displayName, required: true, autocomplete: "name", maxlength: 200 })}
${field({ name: "email", label: "Email address", type: "email", value: values.email, required: true, autocomplete: "email", maxlength: 254 })}
${field({
  name: "password",
  label: "Password",
  type: "password",
  required: true,
  autocomplete: "new-password",
  hint: "At least 12 characters. A few unrelated words make a strong password that is easy to remember.",
  error: fieldError(problem, "/password"),
})}
<button type="submit" class="button button-primary button-block">Create account</button>`,
  { className: "stack" },
)}
${providers.length > 0 ? html`<p class="divider"><span>or</span></p>${providerButtons(ctx)}` : ""}
<p class="muted center">Already have an account? <a href="/login">Log in</a></p>`;
  return narrow(ctx, "Create your account", "Register applications and get API credentials.", body);
}

function providerButtons(ctx: PageContext): SafeHtml {
  return html`<ul class="provider-list">${ctx.config.login.providers.map(
    (p) =>
      html`<li><a class="button button-secondary button-block" href="/login/start?provider=${p.name}">Continue with ${p.displayName}</a></li>`,
  )}</ul>`;
}

/** After signing up: what happens next. */
export function signupDonePage(ctx: PageContext, email: string, detail: string): SafeHtml {
  const body = html`${alert("success", detail, "Check your inbox")}
<p>We sent a message to <strong>${email}</strong>. Open the link in it to confirm your address, then log in.</p>
<p class="muted">No message after a few minutes? Look in your spam folder, or <a href="/verify-email/resend">send it again</a>.</p>
<p><a class="button button-primary" href="/login">Log in</a></p>`;
  return narrow(ctx, "Almost there", "Confirm your email address to finish.", body);
}

/** The page the verification link opens: one button, so mail scanners that follow links verify nothing. */
export function verifyPage(ctx: PageContext, token: string, problem?: ApiProblem): SafeHtml {
  const body = token
    ? html`${problemAlert(problem, "Your address was not confirmed")}
${postForm(
  "/verify-email",
  ctx.csrfToken,
  html`<input type="hidden" name="token" value="${token}">
<p>Confirm that this email address is yours to finish creating your account.</p>
<button type="submit" class="button button-primary button-block">Confirm my email address</button>`,
)}
${problem ? html`<p class="muted center"><a href="/verify-email/resend">Send a new link</a></p>` : ""}`
    : html`${alert("error", "This link has no token. Open the whole link from the message, or request a new one.")}
<p><a class="button button-primary" href="/verify-email/resend">Send a new link</a></p>`;
  return narrow(ctx, "Confirm your email address", "", body);
}

/** After a successful verification. */
export function verifiedPage(ctx: PageContext, email: string): SafeHtml {
  const body = html`${alert("success", html`<strong>${email}</strong> is confirmed.`, "Thank you")}
<p>Your account is ready. Log in to register your first application.</p>
<p><a class="button button-primary button-block" href="/login">Log in</a></p>`;
  return narrow(ctx, "Email address confirmed", "", body);
}

/** A form asking for an email address (resend verification, forgot password). */
export function emailFormPage(
  ctx: PageContext,
  opts: {
    title: string;
    lead: string;
    action: string;
    button: string;
    email?: string;
    problem?: ApiProblem;
    done?: string;
  },
): SafeHtml {
  const body = opts.done
    ? html`${alert("success", opts.done, "Check your inbox")}<p><a href="/login">Back to log in</a></p>`
    : html`${problemAlert(opts.problem)}
${postForm(
  opts.action,
  ctx.csrfToken,
  html`${field({ name: "email", label: "Email address", type: "email", value: opts.email, required: true, autocomplete: "email" })}
<button type="submit" class="button button-primary button-block">${opts.button}</button>`,
  { className: "stack" },
)}
<p class="muted center"><a href="/login">Back to log in</a></p>`;
  return narrow(ctx, opts.title, opts.lead, body);
}

/** The form that sets a new password with the token of the reset link. */
export function resetPasswordPage(ctx: PageContext, token: string, problem?: ApiProblem): SafeHtml {
  const body = html`${problemAlert(problem, "Your password was not changed")}
${postForm(
  "/reset-password",
  ctx.csrfToken,
  html`<input type="hidden" name="token" value="${token}">
${field({
  name: "password",
  label: "New password",
  type: "password",
  required: true,
  autocomplete: "new-password",
  hint: "At least 12 characters.",
  error: fieldError(problem, "/password"),
})}
<button type="submit" class="button button-primary button-block">Set new password</button>`,
  { className: "stack" },
)}
${problem && problem.kind !== "weak-password" ? html`<p class="muted center"><a href="/forgot-password">Request a new link</a></p>` : ""}`;
  return narrow(
    ctx,
    "Choose a new password",
    "Every other session of your account will be logged out.",
    body,
  );
}

/** The login page: local accounts and each upstream provider. */
export function loginPage(ctx: PageContext, returnTo: string, problem?: string): SafeHtml {
  const local = ctx.config.login.local;
  const query = returnTo !== "/" ? `&returnTo=${encodeURIComponent(returnTo)}` : "";
  const body = html`${problem ? alert("error", problem, "You are not logged in") : ""}
${local.enabled ? html`<p><a class="button button-primary button-block" href="/login/start?method=local${query}">Log in with email and password</a></p>` : ""}
${
  ctx.config.login.providers.length > 0
    ? html`${local.enabled ? html`<p class="divider"><span>or</span></p>` : ""}<ul class="provider-list">${ctx.config.login.providers.map(
        (p) =>
          html`<li><a class="button button-secondary button-block" href="/login/start?provider=${p.name}${query}">Continue with ${p.displayName}</a></li>`,
      )}</ul>`
    : ""
}
${local.enabled && local.allowSignup ? html`<p class="muted center">New here? <a href="/signup">Create an account</a></p>` : ""}
${local.enabled ? html`<p class="muted center"><a href="/forgot-password">Forgot your password?</a></p>` : ""}`;
  return narrow(ctx, "Log in", `Log in to ${ctx.config.displayName}.`, body);
}

/** A short page confirming something, with a way on. */
export function donePage(
  ctx: PageContext,
  title: string,
  message: string,
  link: { href: string; text: string },
): SafeHtml {
  const body = html`${alert("success", message)}<p><a class="button button-primary button-block" href="${link.href}">${link.text}</a></p>`;
  return narrow(ctx, title, "", body);
}
