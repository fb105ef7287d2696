/**
 * Visitors' account routes: sign up, verify the email address, resend the link, forgotten password, and the
 * login round trip through the auth server (authorization code with PKCE), logout.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { LoginError, newLoginChecks } from "../oidc.ts";
import {
  clearLoginState,
  clearSession,
  readLoginState,
  readSession,
  safeReturnTo,
  writeLoginState,
  writeSession,
} from "../session.ts";
import {
  attempt,
  formValue,
  pageContext,
  queryValue,
  redirectWith,
  sendPage,
  type UiContext,
} from "../ui-context.ts";
import {
  donePage,
  emailFormPage,
  loginPage,
  resetPasswordPage,
  signupDonePage,
  signupPage,
  verifiedPage,
  verifyPage,
} from "../views/auth.ts";
import { errorPage } from "../views/public.ts";

/** The account and login routes. */
export async function accountRoutes(app: FastifyInstance, ui: UiContext): Promise<void> {
  const local = ui.config.login.local;
  const redirectUri = `${ui.config.urls.portal.replace(/\/+$/, "")}/login/callback`;

  function signupClosed(request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const ctx = pageContext(ui, request, reply);
    return sendPage(
      reply,
      errorPage(
        ctx,
        403,
        "Signing up is closed",
        "This portal does not take new accounts; ask its administrators for access.",
      ),
      403,
    );
  }

  app.get("/signup", async (request, reply) => {
    if (!local.enabled || !local.allowSignup) return signupClosed(request, reply);
    return sendPage(reply, signupPage(pageContext(ui, request, reply)));
  });

  app.post("/signup", async (request, reply) => {
    if (!local.enabled || !local.allowSignup) return signupClosed(request, reply);
    const values = {
      email: formValue(request.body, "email").trim(),
      displayName: formValue(request.body, "displayName").trim(),
    };
    const result = await attempt(() =>
      ui.api.signUp({ ...values, password: formValue(request.body, "password") }, request.ip),
    );
    const ctx = pageContext(ui, request, reply);
    if (!result.ok) return sendPage(reply, signupPage(ctx, values, result.problem), result.problem.status);
    return sendPage(reply, signupDonePage(ctx, values.email, result.value.detail));
  });

  app.get("/verify-email", async (request, reply) => {
    return sendPage(reply, verifyPage(pageContext(ui, request, reply), queryValue(request, "token")));
  });

  app.post("/verify-email", async (request, reply) => {
    const token = formValue(request.body, "token");
    const result = await attempt(() => ui.api.verifyEmail(token, request.ip));
    const ctx = pageContext(ui, request, reply);
    if (!result.ok) return sendPage(reply, verifyPage(ctx, token, result.problem), result.problem.status);
    request.log.info("Verified an email address");
    return sendPage(reply, verifiedPage(ctx, result.value.email));
  });

  const resend = {
    title: "Send the link again",
    lead: "We mail a new confirmation link if the address has an account that is not confirmed yet.",
    action: "/verify-email/resend",
    button: "Send link",
  };
  app.get("/verify-email/resend", async (request, reply) =>
    sendPage(reply, emailFormPage(pageContext(ui, request, reply), resend)),
  );
  app.post("/verify-email/resend", async (request, reply) => {
    const email = formValue(request.body, "email").trim();
    const result = await attempt(() => ui.api.resendVerification(email, request.ip));
    const ctx = pageContext(ui, request, reply);
    if (!result.ok)
      return sendPage(
        reply,
        emailFormPage(ctx, { ...resend, email, problem: result.problem }),
        result.problem.status,
      );
    return sendPage(reply, emailFormPage(ctx, { ...resend, done: result.value.detail }));
  });

  const forgot = {
    title: "Forgot your password?",
    lead: "Enter your email address and we mail you a link to choose a new one.",
    action: "/forgot-password",
    button: "Mail me a link",
  };
  app.get("/forgot-password", async (request, reply) =>
    sendPage(reply, emailFormPage(pageContext(ui, request, reply), forgot)),
  );
  app.post("/forgot-password", async (request, reply) => {
    const email = formValue(request.body, "email").trim();
    const result = await attempt(() => ui.api.requestPasswordReset(email, request.ip));
    const ctx = pageContext(ui, request, reply);
    if (!result.ok)
      return sendPage(
        reply,
        emailFormPage(ctx, { ...forgot, email, problem: result.problem }),
        result.problem.status,
      );
    return sendPage(reply, emailFormPage(ctx, { ...forgot, done: result.value.detail }));
  });

  app.get("/reset-password", async (request, reply) =>
    sendPage(reply, resetPasswordPage(pageContext(ui, request, reply), queryValue(request, "token"))),
  );
  app.post("/reset-password", async (request, reply) => {
    const token = formValue(request.body, "token");
    const result = await attempt(() =>
      ui.api.resetPassword(token, formValue(request.body, "password"), request.ip),
    );
    const ctx = pageContext(ui, request, reply);
    if (!result.ok)
      return sendPage(reply, resetPasswordPage(ctx, token, result.problem), result.problem.status);
    clearSession(reply, ui.flags);
    return sendPage(
      reply,
      donePage(
        ctx,
        "Password changed",
        "Your new password is set, and every session of your account was logged out.",
        {
          href: "/login",
          text: "Log in",
        },
      ),
    );
  });

  app.get("/login", async (request, reply) => {
    const returnTo = safeReturnTo(queryValue(request, "returnTo") || "/");
    if (readSession(request)) return reply.redirect(returnTo, 303);
    if (ui.config.login.providers.length === 0 && local.enabled) {
      return reply.redirect(`/login/start?returnTo=${encodeURIComponent(returnTo)}`, 303);
    }
    return sendPage(reply, loginPage(pageContext(ui, request, reply), returnTo));
  });

  app.get("/login/start", async (request, reply) => {
    const returnTo = safeReturnTo(queryValue(request, "returnTo") || "/");
    const providerName = queryValue(request, "provider");
    const provider = ui.config.login.providers.find((p) => p.name === providerName);
    const checks = await newLoginChecks();
    try {
      const url = await ui.oidc.authorizationUrl({
        state: checks.state,
        nonce: checks.nonce,
        codeChallenge: checks.challenge,
        ...(provider ? { provider: provider.name } : {}),
      });
      writeLoginState(reply, ui.flags, {
        state: checks.state,
        nonce: checks.nonce,
        verifier: checks.verifier,
        returnTo,
      });
      return reply.redirect(url.toString(), 302);
    } catch (err) {
      if (!(err instanceof LoginError)) throw err;
      request.log.warn({ err: err.message }, "Login could not start");
      return sendPage(reply, loginPage(pageContext(ui, request, reply), returnTo, err.message), 503);
    }
  });

  app.get("/login/callback", async (request, reply) => {
    const state = readLoginState(request);
    clearLoginState(reply, ui.flags);
    if (!state) {
      return sendPage(
        reply,
        loginPage(
          pageContext(ui, request, reply),
          "/",
          "The login took too long or was started in another browser window; log in again.",
        ),
        400,
      );
    }
    const query = request.url.includes("?") ? request.url.slice(request.url.indexOf("?")) : "";
    try {
      const tokens = await ui.oidc.finish(new URL(`${redirectUri}${query}`), state);
      const me = await ui.api.me(tokens.accessToken);
      writeSession(reply, ui.flags, {
        user: {
          id: me.id,
          email: me.email,
          name: me.displayName,
          admin: me.permissions.admin,
          approver: me.permissions.approver,
        },
        accessToken: tokens.accessToken,
        expiresAt: tokens.expiresAt,
        ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}),
      });
      request.log.info({ userId: me.id }, "Logged in User");
      return redirectWith(ui, reply, state.returnTo, {
        kind: "success",
        text: `Welcome, ${me.displayName}.`,
      });
    } catch (err) {
      const message =
        err instanceof LoginError
          ? err.message
          : err instanceof Error && err.name === "ApiProblem"
            ? `The portal did not accept the login: ${err.message}`
            : undefined;
      if (!message) throw err;
      request.log.info({ err: message }, "Login failed");
      return sendPage(reply, loginPage(pageContext(ui, request, reply), state.returnTo, message), 400);
    }
  });

  // Logging out revokes the session's refresh token at the auth server (and with it the grant, so no token of
  // this login can be refreshed again), clears the cookie, and sends the browser on to end the auth server's
  // session. The access token is a JWT that lives until it expires (15 minutes at most), but only this
  // browser's cookie held it. When the auth server cannot revoke, the browser is still logged out here.
  app.post("/logout", async (request, reply) => {
    const session = readSession(request);
    clearSession(reply, ui.flags);
    if (session?.refreshToken) {
      try {
        await ui.oidc.revoke(session.refreshToken);
      } catch (err) {
        if (!(err instanceof LoginError)) throw err;
        request.log.warn(
          { userId: session.user.id, err: err.message },
          "Logout could not revoke the refresh token",
        );
      }
    }
    if (session) request.log.info({ userId: session.user.id }, "Logged out User");
    const url = await ui.oidc.logoutUrl();
    if (url) return reply.redirect(url.toString(), 303);
    return redirectWith(ui, reply, "/", { kind: "info", text: "You are logged out." });
  });
}
