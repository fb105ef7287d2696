/**
 * The limits of the login and sign-up forms. A login attempt passes three independent limits: per client
 * address whatever the email (password spraying across accounts), per account whatever the address
 * (distributed guessing of one password), and one for the whole auth server (a ceiling on password hashing
 * and on what a botnet can try). A sign-up passes a per-address and a global limit. Counters are per replica.
 */
import type { FastifyRequest } from "fastify";
import {
  accountKey,
  addressKey,
  type Check,
  type Limit,
  throttle,
  WindowCounter,
} from "../component/throttle.ts";

/** The limits of the interaction forms. */
export interface ThrottleSettings {
  login: { perAddress: Limit; perAccount: Limit; global: Limit };
  signup: { perAddress: Limit; global: Limit };
}

/** Some of the limits; the others keep their defaults. */
export interface ThrottleOverrides {
  login?: Partial<ThrottleSettings["login"]>;
  signup?: Partial<ThrottleSettings["signup"]>;
}

const MINUTE = 60_000;

/**
 * The defaults, per replica: 20 login attempts a minute from one address (a shared office NAT included),
 * 10 per account in 15 minutes (about 1,000 guesses a day at most, while someone who mistypes a few times is
 * not held up), 300 a minute in all (5 scrypt hashes a second, half a core); 5 sign-ups per address in
 * 5 minutes and 60 a minute in all.
 */
export const DEFAULT_THROTTLE: ThrottleSettings = {
  login: {
    perAddress: { max: 20, timeWindowMs: MINUTE },
    perAccount: { max: 10, timeWindowMs: 15 * MINUTE },
    global: { max: 300, timeWindowMs: MINUTE },
  },
  signup: {
    perAddress: { max: 5, timeWindowMs: 5 * MINUTE },
    global: { max: 60, timeWindowMs: MINUTE },
  },
};

/** The defaults with `overrides` applied limit by limit. */
export function throttleSettings(overrides: ThrottleOverrides = {}): ThrottleSettings {
  return {
    login: { ...DEFAULT_THROTTLE.login, ...overrides.login },
    signup: { ...DEFAULT_THROTTLE.signup, ...overrides.signup },
  };
}

function emailOf(request: FastifyRequest): string {
  const body = request.body;
  const value = typeof body === "object" && body !== null ? Reflect.get(body, "email") : undefined;
  return typeof value === "string" ? value : "";
}

/**
 * The preHandler hooks of the login and sign-up posts: each admits a request or answers 429 with Retry-After
 * (through the scope's error handler).
 */
export function interactionThrottles(settings: ThrottleSettings, now: () => number = Date.now) {
  const login = {
    perAddress: new WindowCounter(settings.login.perAddress),
    perAccount: new WindowCounter(settings.login.perAccount),
    global: new WindowCounter(settings.login.global),
  };
  const signup = {
    perAddress: new WindowCounter(settings.signup.perAddress),
    global: new WindowCounter(settings.signup.global),
  };
  return {
    login: throttle(
      (request): Check[] => [
        [login.perAddress, addressKey(request.ip)],
        [login.perAccount, accountKey(emailOf(request))],
        [login.global, ""],
      ],
      now,
    ),
    signup: throttle(
      (request): Check[] => [
        [signup.perAddress, addressKey(request.ip)],
        [signup.global, ""],
      ],
      now,
    ),
  };
}
