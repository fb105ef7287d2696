/**
 * Unauthenticated account routes: sign up, verify the email address, request a new verification link, reset
 * a forgotten password. Throttled per client address, per account (the routes that mail an address) and
 * globally, and worded so that the answers never reveal whether an address has an account.
 */
import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import {
  EMAIL_PATTERN,
  requestPasswordReset,
  resendVerification,
  resetPassword,
  signUp,
  verifyEmail,
} from "../../accounts/index.ts";
import { accountKey, addressKey, type Check, throttle, WindowCounter } from "../../component/throttle.ts";
import type { PortalApp, PortalContext } from "../context.ts";
import { forbidden } from "../problems.ts";
import { Accepted, Security } from "../schemas.ts";

const Email = Type.String({ pattern: EMAIL_PATTERN, maxLength: 254, description: "Email address." });
const Password = Type.String({ minLength: 1, maxLength: 1024 });
const Token = Type.String({ minLength: 10, maxLength: 200, description: "The token from the mailed link." });

/** The routes under /accounts. */
export async function accountRoutes(app: PortalApp, ctx: PortalContext): Promise<void> {
  const perAddress = new WindowCounter(ctx.throttle.perAddress);
  const perAccount = new WindowCounter(ctx.throttle.perAccount);
  const global = new WindowCounter(ctx.throttle.global);
  const now = () => ctx.clock().getTime();
  const byAddress = (request: FastifyRequest): Check[] => [
    [perAddress, addressKey(request.clientAddress)],
    [global, ""],
  ];
  /** For the routes with a token: per client address and global. */
  const limited = throttle(byAddress, now);
  /** For the routes that take (and mail) an email address: per account too. */
  const limitedPerAccount = throttle((request) => {
    const email = (request.body as { email?: unknown } | undefined)?.email;
    return [...byAddress(request), [perAccount, accountKey(typeof email === "string" ? email : "")]];
  }, now);
  const pendingDetail = ctx.config.mail.enabled
    ? "If this address can receive mail, a message with a verification link is on its way; follow it, then log in."
    : "The account is ready; log in.";

  app.post(
    "/accounts",
    {
      preHandler: limitedPerAccount,
      schema: {
        operationId: "signUp",
        tags: ["accounts"],
        summary: "Sign up with email and password.",
        security: Security.none,
        description:
          "The answer is the same whether or not the address already has an account (when mail is configured).",
        body: Type.Object(
          {
            email: Email,
            displayName: Type.String({ minLength: 1, maxLength: 200 }),
            password: Password,
          },
          { additionalProperties: false },
        ),
        response: { 202: Accepted },
      },
    },
    async (request, reply) => {
      const local = ctx.config.login.local;
      if (!local.enabled || !local.allowSignup) {
        throw forbidden(
          "signup-disabled",
          "This portal does not allow signing up; ask its administrators for access.",
        );
      }
      const result = await signUp(ctx.accounts, request.body);
      if (result.outcome === "created") request.log.info({ userId: result.userId }, "Created User");
      return reply.code(202).send({ status: "accepted", detail: pendingDetail });
    },
  );

  app.post(
    "/accounts/verify",
    {
      preHandler: limited,
      schema: {
        operationId: "verifyEmail",
        tags: ["accounts"],
        summary: "Verify an email address with the token from the mailed link.",
        security: Security.none,
        body: Type.Object({ token: Token }, { additionalProperties: false }),
        response: { 200: Type.Object({ email: Type.String(), verified: Type.Literal(true) }) },
      },
    },
    async (request) => {
      const user = await verifyEmail(ctx.accounts, request.body.token);
      request.log.info({ userId: user.id }, "Verified User email");
      return { email: user.email, verified: true as const };
    },
  );

  app.post(
    "/accounts/verification",
    {
      preHandler: limitedPerAccount,
      schema: {
        operationId: "resendVerification",
        tags: ["accounts"],
        summary: "Mail a new verification link.",
        security: Security.none,
        body: Type.Object({ email: Email }, { additionalProperties: false }),
        response: { 202: Accepted },
      },
    },
    async (request, reply) => {
      await resendVerification(ctx.accounts, request.body.email);
      return reply.code(202).send({
        status: "accepted",
        detail: "If this address has an account that is not verified yet, a new link is on its way.",
      });
    },
  );

  app.post(
    "/accounts/password-reset",
    {
      preHandler: limitedPerAccount,
      schema: {
        operationId: "requestPasswordReset",
        tags: ["accounts"],
        summary: "Mail a password reset link.",
        security: Security.none,
        body: Type.Object({ email: Email }, { additionalProperties: false }),
        response: { 202: Accepted },
      },
    },
    async (request, reply) => {
      await requestPasswordReset(ctx.accounts, request.body.email);
      return reply.code(202).send({
        status: "accepted",
        detail: "If this address has an account, a message with a reset link is on its way.",
      });
    },
  );

  app.post(
    "/accounts/password-reset/confirm",
    {
      preHandler: limited,
      schema: {
        operationId: "resetPassword",
        tags: ["accounts"],
        summary: "Set a new password with the token from the mailed link.",
        security: Security.none,
        body: Type.Object({ token: Token, password: Password }, { additionalProperties: false }),
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const user = await resetPassword(ctx.accounts, request.body.token, request.body.password);
      request.log.info({ userId: user.id }, "Reset User password");
      return reply.code(204).send(null);
    },
  );
}
