/** The user's own account: profile, password, deletion. */
import type { ApiProblem } from "../api-client.ts";
import type { Me } from "../api-types.ts";
import { html, type SafeHtml } from "../html.ts";
import { field, postForm, problemAlert } from "./components.ts";
import type { PageContext } from "./context.ts";
import { layout } from "./layout.ts";

/** The account page. */
export function accountPage(
  ctx: PageContext,
  me: Me,
  opts: { problem?: ApiProblem; section?: string } = {},
): SafeHtml {
  const problemFor = (section: string) => (opts.section === section ? opts.problem : undefined);
  const roles = [
    me.permissions.admin ? "Administrator" : "",
    me.permissions.approver ? "Approver" : "",
  ].filter(Boolean);
  const body = html`<section class="card" aria-labelledby="profile">
<h2 id="profile">Profile</h2>
<dl class="facts">
<div><dt>Email</dt><dd>${me.email}</dd></div>
<div><dt>Groups</dt><dd>${me.groups.length > 0 ? me.groups.join(", ") : html`<span class="muted">none</span>`}</dd></div>
${roles.length > 0 ? html`<div><dt>Roles</dt><dd>${roles.join(", ")}</dd></div>` : ""}
</dl>
${problemAlert(problemFor("profile"), "Your name was not changed")}
${postForm(
  "/account/profile",
  ctx.csrfToken,
  html`${field({ name: "displayName", label: "Name", value: me.displayName, required: true, maxlength: 200, autocomplete: "name" })}
<button type="submit" class="button button-primary">Save</button>`,
  { className: "stack" },
)}
</section>
<section class="card" aria-labelledby="password">
<h2 id="password">Password</h2>
${problemAlert(problemFor("password"), "Your password was not changed")}
${postForm(
  "/account/password",
  ctx.csrfToken,
  html`${field({ name: "currentPassword", label: "Current password", type: "password", required: true, autocomplete: "current-password" })}
${field({ name: "newPassword", label: "New password", type: "password", required: true, autocomplete: "new-password", hint: "At least 12 characters." })}
<button type="submit" class="button button-primary">Change password</button>`,
  { className: "stack" },
)}
<p class="muted">Logged in through another provider and have no password? Use <a href="/forgot-password">forgot password</a> to set one.</p>
</section>
<section class="card danger-zone" aria-labelledby="delete">
<h2 id="delete">Delete your account</h2>
<p>Your applications and their subscriptions are deleted with it; their credentials stop working.</p>
${problemAlert(problemFor("delete"), "Your account was not deleted")}
${postForm(
  "/account/delete",
  ctx.csrfToken,
  html`<div class="checkbox"><input type="checkbox" id="confirm-account" name="confirm" value="yes" required><label for="confirm-account">Delete my account, applications and subscriptions</label></div>
<button type="submit" class="button button-danger">Delete account</button>`,
  { className: "stack", confirm: "Delete your account for good?" },
)}
</section>`;
  return layout(ctx, { title: "Your account", lead: me.displayName, body });
}
