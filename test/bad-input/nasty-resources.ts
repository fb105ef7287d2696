/**
 * fast-check generators of wicked resources that are VALID but nasty: strings at their length limits in
 * scripts, emoji, combining marks and right-to-left text, odd but legal object names, and references to
 * things that do not exist. The apiserver stores them; the operator must settle each one (with
 * ResolvedRefs=False where a reference is missing) instead of crashing or looping. Pure: no I/O.
 */
import fc from "fast-check";
import type { Json } from "../support/cluster.ts";

/** A valid manifest and how the operator must settle it. */
export interface NastyCase {
  kind: string;
  plural: string;
  /** What makes it nasty, for the report. */
  flavour: string;
  manifest: Json;
  /** The ResolvedRefs status it must settle with; undefined for kinds without references. */
  resolvedRefs?: "True" | "False";
}

/** Names of the objects every nasty case may refer to and that exist. */
export interface ExistingRefs {
  plan: string;
  /** A Plan that exists but that `api` does not offer. */
  otherPlan: string;
  api: string;
  client: string;
}

/** The first `max` code points of a string (the apiserver counts maxLength in code points). */
export function codePoints(text: string, max: number): string {
  return [...text].slice(0, max).join("");
}

/** Text from many scripts: emoji with joiners and skin tones, combining marks, RTL, CJK, symbols. */
export const SPICY = [
  "👩🏽‍💻",
  "🏳️‍🌈",
  "Z̤͔ͧ̑̓ä͖̭̈̇l͖͎g̞̥͈ͮ̍o̴",
  "مرحبا بالعالم",
  "שלום",
  "\u202Eevil\u202C",
  "日本語のテキスト",
  "Ελληνικά",
  "ᚠᛇᚻ",
  "\u200B\u200D\uFEFF",
  "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
  "ﷺ",
  "\u0301",
  "\t\n\r",
  "Ω≈ç√∫",
];

/** Unicode text of 1..max code points, mixing the pieces above with random graphemes. */
export function unicodeText(max: number): fc.Arbitrary<string> {
  const piece = fc.oneof(
    fc.constantFrom(...SPICY),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }),
  );
  return fc
    .tuple(fc.array(piece, { minLength: 1, maxLength: 30 }), fc.boolean())
    .map(([pieces, fill]) => {
      let text = pieces.join("");
      // Half the cases go to the limit exactly.
      if (fill) while ([...text].length < max) text += text;
      return codePoints(text, max);
    })
    .filter((t) => t.trim().length > 0);
}

/** Legal DNS-1123 subdomain names that look odd: one character, digits only, dots, dashes, 253 long. */
export function oddName(maxLength = 253): fc.Arbitrary<string> {
  const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);
  return fc
    .oneof(
      fc.constantFrom("0", "9", "a", "x--y", "1-2-3", "a.b.c", "0.0.0.0"),
      fc.array(label, { minLength: 1, maxLength: 6 }).map((labels) => labels.join(".")),
      fc.integer({ min: 60, max: maxLength }).map((n) => `${"z".repeat(n - 1)}9`),
    )
    .filter((n) => n.length <= maxLength);
}

function manifest(kind: string, name: string, spec: Json): Json {
  return { apiVersion: "wicked.dev/v1alpha1", kind, metadata: { name }, spec };
}

/**
 * The longest name a label value can carry. The operator labels a Subscription's credentials Secret (and a
 * portal's children) with the owner's name, so longer names, legal as they are, need the operator to cope;
 * see longSubscriptionNames.
 */
export const LABEL_VALUE_MAX = 63;

/** The longest Subscription name the CRD admits: its credentials Secret is named `<name>-credentials`. */
export const SUBSCRIPTION_NAME_MAX = 241;

/** The longest ApiPortal name the CRD admits: its Services are named `<name>-auth-server` and so on. */
export const PORTAL_NAME_MAX = 51;

/**
 * Nasty Apis, Plans, ApiClients and Subscriptions, one generator per kind of nastiness (each case's `flavour`
 * describes it); `name(candidate)` makes an odd name unique (so repeated names do not collide) and keeps it
 * legal and about as long as the candidate.
 */
export function nastyResources(
  refs: ExistingRefs,
  name: (candidate: string) => string,
): Record<string, fc.Arbitrary<NastyCase>> {
  const api = fc
    .record({
      name: oddName(),
      displayName: unicodeText(100),
      description: unicodeText(65_536),
      tags: fc.uniqueArray(unicodeText(40), { maxLength: 16 }),
    })
    .map(
      (a): NastyCase => ({
        kind: "Api",
        plural: "apis",
        flavour: "Api: unicode at its length limits, odd name",
        resolvedRefs: "True",
        manifest: manifest("Api", name(a.name), {
          displayName: a.displayName,
          description: a.description,
          tags: a.tags,
          upstream: { url: "http://nasty.example.com:8080/ü/path" },
          routes: [{ paths: [`/nasty-${Math.abs(hash(a.name))}/a%20b`] }],
          plans: [refs.plan],
        }),
      }),
    );
  const apiWithMissingPlans = fc
    .record({
      name: oddName(),
      plans: fc.uniqueArray(
        fc.oneof(
          unicodeText(60),
          fc.constantFrom("ghost", "'; DROP TABLE plans; --", "../../etc/passwd", "a".repeat(300), "%00"),
        ),
        { minLength: 1, maxLength: 16 },
      ),
    })
    .map(
      (a): NastyCase => ({
        kind: "Api",
        plural: "apis",
        flavour: "Api: plans that do not exist (any string)",
        resolvedRefs: "False",
        manifest: manifest("Api", name(a.name), {
          displayName: "Missing plans",
          upstream: { url: "http://nasty.example.com" },
          routes: [{ hosts: [`${Math.abs(hash(a.name))}.nasty.example.com`] }],
          plans: a.plans,
        }),
      }),
    );
  const apiWithMissingService = oddName(63).map(
    (svc): NastyCase => ({
      kind: "Api",
      plural: "apis",
      flavour: "Api: upstream Service that does not exist",
      resolvedRefs: "False",
      manifest: manifest("Api", name(`svc-${svc}`), {
        displayName: "Missing service",
        upstream: { serviceRef: { name: svc, port: 65535, path: "/ü" } },
        routes: [{ paths: [`/svc-${Math.abs(hash(svc))}`] }],
        plans: [refs.plan],
      }),
    }),
  );
  const plan = fc
    .record({
      name: oddName(),
      displayName: unicodeText(100),
      description: unicodeText(10_000),
      limits: fc.integer({ min: 1, max: 1_000_000 }),
    })
    .map(
      (p): NastyCase => ({
        kind: "Plan",
        plural: "plans",
        flavour: "Plan: unicode at its length limits, extreme rate limits",
        manifest: manifest("Plan", name(p.name), {
          displayName: p.displayName,
          description: p.description,
          rateLimits: {
            second: p.limits,
            minute: 60_000_000,
            hour: 2_000_000_000,
            day: 9_007_199_254_740_991,
          },
        }),
      }),
    );
  const client = fc
    .record({
      name: oddName(),
      displayName: unicodeText(100),
      description: unicodeText(2_000),
      redirect: fc.stringMatching(/^[a-zA-Z0-9\u00C0-\u024F/._~-]{0,200}$/),
    })
    .map(
      (c): NastyCase => ({
        kind: "ApiClient",
        plural: "apiclients",
        flavour: "ApiClient: unicode at its length limits, 16 redirect URIs, 32 collaborators",
        manifest: manifest("ApiClient", name(c.name), {
          displayName: c.displayName,
          description: c.description,
          owner: "ünï+cödé@exämple.com",
          clientType: "public",
          redirectUris: Array.from({ length: 16 }, (_, i) => `https://app.example.com/${i}/${c.redirect}`),
          collaborators: Array.from({ length: 32 }, (_, i) => ({
            user: `c${i}@example.com`,
            role: "Reader",
          })),
        }),
      }),
    );
  const subscriptionWithMissingRefs = fc
    .record({
      name: oddName(200),
      missing: fc.subarray(["clientRef", "apiRef", "planRef"] as const, { minLength: 1 }),
      ghost: oddName(),
    })
    .map(
      (s): NastyCase => ({
        kind: "Subscription",
        plural: "subscriptions",
        flavour: "Subscription: client, Api or Plan that do not exist",
        resolvedRefs: "False",
        manifest: manifest("Subscription", name(s.name), {
          clientRef: {
            name: s.missing.includes("clientRef") ? `ghost-${s.ghost}`.slice(0, 253) : refs.client,
          },
          apiRef: { name: s.missing.includes("apiRef") ? `ghost-${s.ghost}`.slice(0, 253) : refs.api },
          planRef: { name: s.missing.includes("planRef") ? `ghost-${s.ghost}`.slice(0, 253) : refs.plan },
        }),
      }),
    );
  const subscriptionToPlanNotOffered = oddName(200).map(
    (n): NastyCase => ({
      kind: "Subscription",
      plural: "subscriptions",
      flavour: "Subscription: a Plan its Api does not offer",
      resolvedRefs: "False",
      manifest: manifest("Subscription", name(n), {
        clientRef: { name: refs.client },
        apiRef: { name: refs.api },
        planRef: { name: refs.otherPlan },
      }),
    }),
  );
  const subscriptionWithOddName = oddName(LABEL_VALUE_MAX).map(
    (n): NastyCase => ({
      kind: "Subscription",
      plural: "subscriptions",
      flavour: `Subscription: odd name up to ${LABEL_VALUE_MAX} characters, valid references`,
      resolvedRefs: "True",
      manifest: manifest("Subscription", name(n), {
        clientRef: { name: refs.client },
        apiRef: { name: refs.api },
        planRef: { name: refs.plan },
      }),
    }),
  );
  return {
    api,
    apiWithMissingPlans,
    apiWithMissingService,
    plan,
    client,
    subscriptionWithMissingRefs,
    subscriptionToPlanNotOffered,
    subscriptionWithOddName,
  };
}

/**
 * Subscriptions with legal names longer than a label value (64 to 253 characters) and valid references: the
 * operator must still settle them, with a condition that says what is wrong if it cannot issue credentials.
 */
export function longSubscriptionNames(refs: ExistingRefs): fc.Arbitrary<NastyCase> {
  return fc.integer({ min: LABEL_VALUE_MAX + 1, max: SUBSCRIPTION_NAME_MAX }).map((length) => ({
    kind: "Subscription",
    plural: "subscriptions",
    flavour: `Subscription: name of ${LABEL_VALUE_MAX + 1} to ${SUBSCRIPTION_NAME_MAX} characters`,
    resolvedRefs: "True",
    manifest: manifest("Subscription", `${"s".repeat(length - 1)}${length % 10}`, {
      clientRef: { name: refs.client },
      apiRef: { name: refs.api },
      planRef: { name: refs.plan },
    }),
  }));
}

/** A small stable hash of a string, to derive unique route paths and hosts. Pure. */
export function hash(text: string): number {
  let h = 0;
  for (const ch of text) h = (Math.imul(h, 31) + (ch.codePointAt(0) ?? 0)) | 0;
  return h;
}
