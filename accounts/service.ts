/**
 * Local accounts: sign-up, email verification, password reset and password login. Shared by the portal API
 * (its REST endpoints) and the auth server (its sign-up and login pages), so both apply the same rules.
 * Every change and the outbox event announcing it are written in one transaction (db/outbox.ts).
 */
import { type Kysely, sql, type Transaction } from "kysely";
import { appendOutbox } from "../db/outbox.ts";
import type { Database } from "../db/schema.ts";
import { DEFAULT_SCRYPT, hashPassword, needsRehash, type ScryptParams, verifyPassword } from "./password.ts";
import { type PasswordPolicy, passwordProblems } from "./policy.ts";
import { revokeUserSessions } from "./sessions.ts";
import { hashToken, newToken } from "./tokens.ts";

/** "Now", injected so tests can move time (token expiry). */
export type Clock = () => Date;

/** Why an account operation was refused. */
export type AccountErrorCode =
  /** Unknown email or wrong password: deliberately the same answer. */
  | "InvalidCredentials"
  /** The password was right but the email address is not verified yet. */
  | "EmailNotVerified"
  /** The token does not exist (mistyped or forged link). */
  | "TokenInvalid"
  /** The token expired before it was used. */
  | "TokenExpired"
  /** The token was already used. */
  | "TokenUsed"
  /** The new password does not meet the policy. */
  | "WeakPassword"
  /** Self sign-up or local login is switched off for this portal. */
  | "SignupDisabled"
  /** Another live account has this email address (only said when verification is off). */
  | "EmailTaken"
  /** The email address is not one an account can have. */
  | "InvalidEmail";

/** An account operation was refused; the message tells the user what to do. */
export class AccountError extends Error {
  override readonly name = "AccountError";
  constructor(
    readonly code: AccountErrorCode,
    message: string,
    /** Details such as the list of password problems. */
    readonly problems: string[] = [],
  ) {
    super(message);
  }
}

/** What the account functions need. */
export interface AccountsContext {
  db: Kysely<Database>;
  clock: Clock;
  policy: PasswordPolicy;
  /** Whether new addresses must be verified by mail (ApiPortal `mail` configured). */
  verification: boolean;
  /** How long verification and reset links work; defaults to 24 h and 1 h. */
  verificationTtlMs?: number;
  resetTtlMs?: number;
  /** scrypt cost for new hashes; defaults to DEFAULT_SCRYPT. */
  scrypt?: ScryptParams;
}

/** A live user as the account functions return it. */
export interface AccountUser {
  id: string;
  email: string;
  displayName: string;
  emailVerified: boolean;
  groups: string[];
  isAdmin: boolean;
}

/**
 * The email pattern of accounts: a subset of the one ApiClient.spec.owner requires, so every account can own
 * applications. Its domain is dot-separated labels that cannot contain dots, so a match never has two ways to
 * split the text and takes linear time (the CRD's `[^@\s]+\.[^@\s]+` is quadratic on a long run of dots).
 */
export const EMAIL_PATTERN = "^[^@\\s]+@[^@\\s.]+(\\.[^@\\s.]+)+$";
const EMAIL = new RegExp(EMAIL_PATTERN);

const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

/** What sign-up did; callers answer the same for `created` and `exists` when verification is on. */
export interface SignUpResult {
  outcome: "created" | "exists";
  /** The new user's id (only for `created`). */
  userId?: string;
  /** Whether the account can log in right away (verification off). */
  verified: boolean;
}

/**
 * Creates a local account. With verification on, the account cannot log in until the link mailed through
 * the outbox (`UserSignedUp` with the raw token) is followed; an existing address gets the same result
 * (`exists`) so the answer does not reveal who has an account, and an unverified one gets a fresh link.
 */
export async function signUp(
  ctx: AccountsContext,
  input: { email: string; displayName: string; password: string },
): Promise<SignUpResult> {
  const email = input.email.trim();
  const displayName = input.displayName.trim();
  if (email.length > 254 || !EMAIL.test(email)) {
    throw new AccountError("InvalidEmail", "Enter a valid email address, such as jane@example.com.");
  }
  const problems = passwordProblems(input.password, ctx.policy, { email });
  if (problems.length > 0) {
    throw new AccountError("WeakPassword", `Choose a stronger password: ${problems.join(" ")}`, problems);
  }
  const passwordHash = await hashPassword(input.password, ctx.scrypt ?? DEFAULT_SCRYPT);
  const now = ctx.clock();
  try {
    return await ctx.db.transaction().execute(async (trx) => {
      const existing = await liveUserByEmail(trx, email);
      if (existing) {
        if (!ctx.verification) {
          throw new AccountError(
            "EmailTaken",
            "An account with this email address exists: log in, or reset your password if you forgot it.",
          );
        }
        if (!existing.email_verified_at) {
          // The password goes with this link only: whoever follows it proves the address and gets it.
          const verifyToken = await issueVerification(
            trx,
            ctx,
            existing.id,
            existing.email,
            now,
            passwordHash,
          );
          await appendOutbox(trx, {
            type: "VerificationRequested",
            verifyToken,
            userId: existing.id,
            email: existing.email,
            displayName: existing.display_name,
          });
        }
        return { outcome: "exists", verified: false } satisfies SignUpResult;
      }
      const user = await trx
        .insertInto("users")
        .values({
          email,
          display_name: displayName,
          // With verification the password waits on the link; without it nobody proves the address.
          password_hash: ctx.verification ? null : passwordHash,
          email_verified_at: null,
          created_at: now,
          updated_at: now,
        })
        .returning(["id"])
        .executeTakeFirstOrThrow();
      const verifyToken = ctx.verification
        ? await issueVerification(trx, ctx, user.id, email, now, passwordHash)
        : null;
      await appendOutbox(trx, { type: "UserSignedUp", verifyToken, userId: user.id, email, displayName });
      return { outcome: "created", userId: user.id, verified: !ctx.verification } satisfies SignUpResult;
    });
  } catch (err) {
    // A concurrent sign-up with the same address won the unique index: the same answer as `exists`.
    if (isUniqueViolation(err)) {
      if (!ctx.verification) {
        throw new AccountError("EmailTaken", "An account with this email address exists: log in instead.");
      }
      return { outcome: "exists", verified: false };
    }
    throw err;
  }
}

/** Marks the address of a verification token as verified; the token works once. */
export async function verifyEmail(ctx: AccountsContext, token: string): Promise<AccountUser> {
  const now = ctx.clock();
  return ctx.db.transaction().execute(async (trx) => {
    const row = await consumeToken(trx, "email_verifications", token, now);
    const verification = await trx
      .selectFrom("email_verifications")
      .select(["email", "password_hash"])
      .where("id", "=", row.id)
      .executeTakeFirstOrThrow();
    const user = await trx
      .updateTable("users")
      .set({
        email_verified_at: now,
        updated_at: now,
        ...(verification.password_hash ? { password_hash: verification.password_hash } : {}),
      })
      .where("id", "=", row.user_id)
      .where("deleted_at", "is", null)
      .where(sql<string>`lower(email)`, "=", verification.email.toLowerCase())
      .returningAll()
      .executeTakeFirst();
    if (!user) {
      throw new AccountError(
        "TokenInvalid",
        "This link is for an address the account no longer uses; request a new verification email.",
      );
    }
    // The address is proven: other sign-ups' links for it (and their passwords) are void.
    await trx
      .deleteFrom("email_verifications")
      .where("user_id", "=", user.id)
      .where("id", "!=", row.id)
      .execute();
    await appendOutbox(trx, {
      type: "UserVerified",
      userId: user.id,
      email: user.email,
      displayName: user.display_name,
    });
    return toAccountUser(user);
  });
}

/** Mails a new verification link to an unverified account; silent for anything else (no enumeration). */
export async function resendVerification(ctx: AccountsContext, email: string): Promise<void> {
  if (!ctx.verification) return;
  const now = ctx.clock();
  await ctx.db.transaction().execute(async (trx) => {
    const user = await liveUserByEmail(trx, email.trim());
    if (!user || user.email_verified_at) return;
    const verifyToken = await issueVerification(trx, ctx, user.id, user.email, now);
    await appendOutbox(trx, {
      type: "VerificationRequested",
      verifyToken,
      userId: user.id,
      email: user.email,
      displayName: user.display_name,
    });
  });
}

/** Mails a password reset link to a live account; silent for unknown addresses (no enumeration). */
export async function requestPasswordReset(ctx: AccountsContext, email: string): Promise<void> {
  const now = ctx.clock();
  await ctx.db.transaction().execute(async (trx) => {
    const user = await liveUserByEmail(trx, email.trim());
    if (!user) return;
    const { token, hash } = newToken();
    await trx
      .insertInto("password_resets")
      .values({
        user_id: user.id,
        token_hash: hash,
        created_at: now,
        expires_at: new Date(now.getTime() + (ctx.resetTtlMs ?? HOUR_MS)),
      })
      .execute();
    await appendOutbox(trx, {
      type: "PasswordResetRequested",
      resetToken: token,
      userId: user.id,
      email: user.email,
      displayName: user.display_name,
    });
  });
}

/**
 * Sets a new password with a reset token (once). Following the mailed link also proves the address, so an
 * unverified account becomes verified. Every session and token of the user is revoked: whoever knew the old
 * password is logged out.
 */
export async function resetPassword(
  ctx: AccountsContext,
  token: string,
  password: string,
): Promise<AccountUser> {
  const now = ctx.clock();
  const pending = await ctx.db
    .selectFrom("password_resets")
    .innerJoin("users", "users.id", "password_resets.user_id")
    .select("users.email")
    .where("password_resets.token_hash", "=", hashToken(token))
    .executeTakeFirst();
  const problems = passwordProblems(password, ctx.policy, { email: pending?.email });
  if (problems.length > 0) {
    throw new AccountError("WeakPassword", `Choose a stronger password: ${problems.join(" ")}`, problems);
  }
  const passwordHash = await hashPassword(password, ctx.scrypt ?? DEFAULT_SCRYPT);
  return ctx.db.transaction().execute(async (trx) => {
    const row = await consumeToken(trx, "password_resets", token, now);
    const user = await trx
      .updateTable("users")
      .set((eb) => ({
        password_hash: passwordHash,
        email_verified_at: eb.fn.coalesce("email_verified_at", eb.val(now)),
        updated_at: now,
      }))
      .where("id", "=", row.user_id)
      .where("deleted_at", "is", null)
      .returningAll()
      .executeTakeFirst();
    if (!user) throw new AccountError("TokenInvalid", "This account no longer exists.");
    await trx
      .updateTable("password_resets")
      .set({ consumed_at: now })
      .where("user_id", "=", user.id)
      .where("consumed_at", "is", null)
      .execute();
    await revokeUserSessions(trx, user.id);
    return toAccountUser(user);
  });
}

/**
 * Changes the password of a logged-in user who knows the current one. Every session and token of the user is
 * revoked with it (this browser's too): whoever knew the old password is logged out.
 */
export async function changePassword(
  ctx: AccountsContext,
  userId: string,
  current: string,
  next: string,
): Promise<void> {
  const user = await ctx.db
    .selectFrom("users")
    .selectAll()
    .where("id", "=", userId)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
  if (!user?.password_hash || !(await verifyPassword(user.password_hash, current))) {
    throw new AccountError("InvalidCredentials", "The current password is wrong.");
  }
  const problems = passwordProblems(next, ctx.policy, { email: user.email });
  if (problems.length > 0) {
    throw new AccountError("WeakPassword", `Choose a stronger password: ${problems.join(" ")}`, problems);
  }
  const passwordHash = await hashPassword(next, ctx.scrypt ?? DEFAULT_SCRYPT);
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .updateTable("users")
      .set({ password_hash: passwordHash, updated_at: ctx.clock() })
      .where("id", "=", userId)
      .execute();
    await revokeUserSessions(trx, userId);
  });
}

let dummyHash: Promise<string> | undefined;

/**
 * Checks an email and password. Unknown addresses and wrong passwords get the same error after the same
 * work (a hash is verified either way), so neither the answer nor its timing reveals who has an account.
 * Only someone who knows the password learns that the address is not verified yet.
 */
export async function authenticate(
  ctx: AccountsContext,
  email: string,
  password: string,
): Promise<AccountUser> {
  const user = await liveUserByEmail(ctx.db, email.trim());
  dummyHash ??= hashPassword("wicked-dummy-password", ctx.scrypt ?? DEFAULT_SCRYPT);
  // Before its address is proven, a sign-up's password waits on its verification link.
  const pending = user && !user.password_hash ? await pendingPasswordHash(ctx.db, user.id) : undefined;
  const stored = user?.password_hash ?? pending;
  const ok = await verifyPassword(stored ?? (await dummyHash), password).catch(() => false);
  if (!user || !stored || !ok) {
    throw new AccountError("InvalidCredentials", "Wrong email or password.");
  }
  if (pending || (!user.email_verified_at && ctx.verification)) {
    throw new AccountError(
      "EmailNotVerified",
      "Verify your email address first: follow the link we mailed you, or request a new one.",
    );
  }
  if (user.password_hash && needsRehash(user.password_hash, ctx.scrypt ?? DEFAULT_SCRYPT)) {
    const upgraded = await hashPassword(password, ctx.scrypt ?? DEFAULT_SCRYPT);
    await ctx.db.updateTable("users").set({ password_hash: upgraded }).where("id", "=", user.id).execute();
  }
  return toAccountUser(user);
}

/** The password of the newest unused verification link of a user, if it carries one. */
async function pendingPasswordHash(db: Kysely<Database>, userId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom("email_verifications")
    .select("password_hash")
    .where("user_id", "=", userId)
    .where("consumed_at", "is", null)
    .where("password_hash", "is not", null)
    .orderBy("created_at", "desc")
    .executeTakeFirst();
  return row?.password_hash ?? undefined;
}

/** A live user by email, ignoring case (the unique index is on lower(email)). */
export function liveUserByEmail(db: Kysely<Database> | Transaction<Database>, email: string) {
  return db
    .selectFrom("users")
    .selectAll()
    .where(sql<string>`lower(email)`, "=", email.toLowerCase())
    .where("deleted_at", "is", null)
    .executeTakeFirst();
}

/** A user row as the account functions return it. */
export function toAccountUser(row: {
  id: string;
  email: string;
  display_name: string;
  email_verified_at: Date | null;
  groups: string[];
  is_admin: boolean;
}): AccountUser {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    emailVerified: row.email_verified_at !== null,
    groups: row.groups,
    isAdmin: row.is_admin,
  };
}

async function issueVerification(
  trx: Transaction<Database>,
  ctx: AccountsContext,
  userId: string,
  email: string,
  now: Date,
  passwordHash: string | null = null,
): Promise<string> {
  const { token, hash } = newToken();
  await trx
    .insertInto("email_verifications")
    .values({
      user_id: userId,
      email,
      password_hash: passwordHash,
      token_hash: hash,
      created_at: now,
      expires_at: new Date(now.getTime() + (ctx.verificationTtlMs ?? DAY_MS)),
    })
    .execute();
  return token;
}

/**
 * Uses a single-use token: one UPDATE with the validity condition, so two concurrent uses cannot both win.
 * When nothing matched, says why (unknown, used or expired).
 */
async function consumeToken(
  trx: Transaction<Database>,
  table: "email_verifications" | "password_resets",
  token: string,
  now: Date,
): Promise<{ id: string; user_id: string }> {
  const hash = hashToken(token);
  const consumed = await trx
    .updateTable(table)
    .set({ consumed_at: now })
    .where("token_hash", "=", hash)
    .where("consumed_at", "is", null)
    .where("expires_at", ">", now)
    .returning(["id", "user_id"])
    .executeTakeFirst();
  if (consumed) return consumed;
  const row = await trx
    .selectFrom(table)
    .select(["consumed_at", "expires_at"])
    .where("token_hash", "=", hash)
    .executeTakeFirst();
  const what = table === "email_verifications" ? "verification" : "password reset";
  if (!row)
    throw new AccountError(
      "TokenInvalid",
      `This ${what} link is not valid; check that you copied all of it.`,
    );
  if (row.consumed_at)
    throw new AccountError("TokenUsed", `This ${what} link was already used; request a new one if needed.`);
  throw new AccountError("TokenExpired", `This ${what} link has expired; request a new one.`);
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === "object" && err !== null && "code" in err && err.code === "23505";
}
