/**
 * Admission of Subscriptions: the rules that span objects and the defaulting of the labels that name what a
 * Subscription refers to. Only what can never become valid is refused (a second subscription of a client
 * to an Api, an Api switched off); references that do not resolve yet — a client, Api or Plan not created
 * yet or being deleted, a plan the Api does not offer yet, an open Api — are admitted with a warning, as
 * GitOps tools apply in their own order: the Subscription reports ResolvedRefs=False until they resolve.
 */
import type { V1ObjectMeta } from "@kubernetes/client-node";
import type { Api, ApiClient, ApiPortal, Plan, Subscription } from "../api/v1alpha1/index.ts";
import { READ_MODEL_FINALIZER } from "../operator/controllers/resources.ts";
import { SUBSCRIPTION_LABEL, secretGrantProblem } from "../operator/subscription/credentials.ts";
import {
  type JsonPatchOperation,
  type Operation,
  pointerSegment,
  specUnchanged,
  type Verdict,
} from "./admission.ts";
import { alive, type NamespaceView } from "./view.ts";

/** Labels the defaulting webhook sets from spec.clientRef, spec.apiRef and spec.planRef. */
export const SubscriptionLabel = {
  client: "wicked.dev/client",
  api: "wicked.dev/api",
  plan: "wicked.dev/plan",
} as const;

/** What exists around a Subscription, read before the pure rules run. */
export interface SubscriptionFacts {
  client?: ApiClient;
  api?: Api;
  plan?: Plan;
  portals: ApiPortal[];
  /** The Subscriptions of the same ApiClient to the same Api (the one admitted is among them on UPDATE). */
  subscriptions: Subscription[];
  /** The metadata of the bring-your-own credentials Secret, when spec.credentials.secretRef names one that exists. */
  credentialsSecret?: V1ObjectMeta;
}

/** Reads the facts the rules need. */
export async function subscriptionFacts(view: NamespaceView, sub: Subscription): Promise<SubscriptionFacts> {
  const secretRef = sub.spec.credentials?.secretRef;
  const [client, api, plan, portals, subscriptions, credentialsSecret] = await Promise.all([
    view.client(sub.spec.clientRef.name),
    view.api(sub.spec.apiRef.name),
    view.plan(sub.spec.planRef.name),
    view.cachedPortals(),
    view.subscriptionsTo(sub.spec.apiRef.name, sub.spec.clientRef.name),
    secretRef ? view.secretMetadata(secretRef.name) : undefined,
  ]);
  return { client, api, plan, portals, subscriptions, credentialsSecret };
}

const missing = (kind: string, name: string, namespace: string, field: string, obj?: { metadata: object }) =>
  obj
    ? `${kind} ${name} in namespace ${namespace} is being deleted; the Subscription waits (ResolvedRefs=False) until it is created again, or refer to another ${kind} in ${field}`
    : `${kind} ${name} does not exist in namespace ${namespace} yet; the Subscription waits (ResolvedRefs=False) until it is created, or correct ${field}`;

const isRejected = (s: Subscription) => s.spec.approval?.decision === "Rejected";

/** Why `api` does not offer `plan` to subscribers, or undefined when it does. */
function notOffered(api: Api, planName: string): string | undefined {
  const offered = api.spec.plans ?? [];
  if (offered.includes(planName)) return undefined;
  return `Api ${api.metadata.name} does not offer plan ${planName} (it offers ${offered.join(", ") || "no plans"}); the Subscription waits (ResolvedRefs=False) until ${planName} is in the Api's spec.plans, or choose one of those`;
}

/** Denial or warning from the Api's deprecation, judged at `now`. */
function deprecation(api: Api, now: Date): { denial?: string; warning?: string } {
  const d = api.spec.deprecation;
  if (!d) return {};
  const advice = d.message ? ` (${d.message})` : "";
  if (d.sunset && Date.parse(d.sunset) <= now.getTime())
    return {
      denial: `Api ${api.metadata.name} was switched off at ${d.sunset}${advice}; it takes no new subscriptions`,
    };
  return {
    warning: `Api ${api.metadata.name} is deprecated${d.since ? ` since ${d.since}` : ""}${d.sunset ? ` and will be switched off at ${d.sunset}` : ""}${advice}`,
  };
}

/**
 * The bring-your-own Secret's verdict: one granted to another Subscription or controlled by another object
 * (another subscription's generated credentials) is refused; one not granted yet, or not created yet, is
 * admitted with a warning, as whoever may write Secrets can still create or label it.
 */
function credentialsSecretVerdict(
  sub: Subscription,
  secret: V1ObjectMeta | undefined,
): { denial?: string; warning?: string } {
  const ref = sub.spec.credentials?.secretRef;
  if (!ref) return {};
  const ns = sub.metadata.namespace ?? "";
  const waits = "the Subscription gets no credentials (CredentialsReady=False) until then";
  if (!secret)
    return {
      warning: `Secret ${ref.name} does not exist in namespace ${ns} yet; create it with the label ${SUBSCRIPTION_LABEL}=${sub.metadata.name}: ${waits}`,
    };
  const problem = secretGrantProblem(sub, { metadata: secret });
  if (!problem) return {};
  const claimed =
    secret.labels?.[SUBSCRIPTION_LABEL] !== undefined || secret.ownerReferences?.some((o) => o.controller);
  return claimed
    ? { denial: `Secret ${ref.name} ${problem}` }
    : { warning: `Secret ${ref.name} ${problem}; ${waits}` };
}

/**
 * The cross-object rules of a Subscription. CREATE checks every reference; UPDATE checks only a changed
 * planRef or credentials Secret (clientRef and apiRef are immutable by the CRD), so an update that does not
 * touch the spec — the operator's finalizer, a label — is never refused because something else changed
 * meanwhile. Pure.
 */
export function validateSubscription(
  operation: Operation,
  sub: Subscription,
  old: Subscription | undefined,
  facts: SubscriptionFacts,
  now: Date,
): Verdict {
  const denials: string[] = [];
  const warnings: string[] = [];
  const ns = sub.metadata.namespace ?? "";
  if (sub.metadata.deletionTimestamp || specUnchanged(operation, sub, old)) return { denials, warnings };
  const { client, api, plan } = facts;
  const planName = sub.spec.planRef.name;

  const secretRefChanged =
    operation === "CREATE" ||
    old?.spec.credentials?.secretRef?.name !== sub.spec.credentials?.secretRef?.name;
  if (secretRefChanged) {
    const { denial, warning } = credentialsSecretVerdict(sub, facts.credentialsSecret);
    if (denial) denials.push(denial);
    if (warning) warnings.push(warning);
  }

  if (operation === "UPDATE") {
    if (old && old.spec.planRef.name !== planName) {
      if (!alive(plan)) warnings.push(missing("Plan", planName, ns, "spec.planRef.name", plan));
      else if (api && alive(api)) {
        const unoffered = notOffered(api, planName);
        if (unoffered) warnings.push(unoffered);
      }
    }
    return { denials, warnings };
  }

  if (!alive(client))
    warnings.push(missing("ApiClient", sub.spec.clientRef.name, ns, "spec.clientRef.name", client));
  if (!alive(api)) warnings.push(missing("Api", sub.spec.apiRef.name, ns, "spec.apiRef.name", api));
  if (!alive(plan)) warnings.push(missing("Plan", planName, ns, "spec.planRef.name", plan));
  if (api && alive(api)) {
    if ((api.spec.auth?.type ?? "key-auth") === "none") {
      warnings.push(
        `Api ${api.metadata.name} is open (auth type none): anyone may call it without a subscription, so this Subscription waits (ResolvedRefs=False) until the Api gets an auth type`,
      );
    } else if (alive(plan)) {
      const unoffered = notOffered(api, planName);
      if (unoffered) warnings.push(unoffered);
    }
    const { denial, warning } = deprecation(api, now);
    if (denial) denials.push(denial);
    if (warning) warnings.push(warning);
  }
  const twin = facts.subscriptions.find(
    (s) =>
      s.metadata.name !== sub.metadata.name &&
      alive(s) &&
      !isRejected(s) &&
      s.spec.clientRef.name === sub.spec.clientRef.name &&
      s.spec.apiRef.name === sub.spec.apiRef.name,
  );
  if (twin) {
    denials.push(
      `ApiClient ${sub.spec.clientRef.name} already subscribes to Api ${sub.spec.apiRef.name} with Subscription ${twin.metadata.name} (plan ${twin.spec.planRef.name}); change that Subscription's planRef instead of adding a second one`,
    );
  }
  if (!facts.portals.some(alive)) {
    warnings.push(
      `There is no ApiPortal in namespace ${ns}: the Subscription stays Pending and no credentials are issued until one exists`,
    );
  }
  return { denials, warnings };
}

/** Label values are at most 63 characters; longer names are left unlabelled. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * The labels a Subscription should carry: `wicked.dev/client`, `wicked.dev/api` and `wicked.dev/plan` with
 * the referenced names, so `kubectl get subscriptions -l wicked.dev/api=orders` lists an API's subscribers.
 * A name too long for a label value (more than 63 characters) gets no label. Pure.
 */
export function subscriptionLabels(sub: Subscription): Record<string, string> {
  const wanted: Record<string, string> = {
    [SubscriptionLabel.client]: sub.spec.clientRef.name,
    [SubscriptionLabel.api]: sub.spec.apiRef.name,
    [SubscriptionLabel.plan]: sub.spec.planRef.name,
  };
  return Object.fromEntries(
    Object.entries(wanted).filter(([, value]) => value.length <= 63 && LABEL_VALUE.test(value)),
  );
}

/**
 * The JSON patch that sets the reference labels and, on CREATE, the operator's read-model finalizer (which
 * the operator would otherwise add with a write of its own to every new Subscription; a finalizer removed on
 * purpose later is not put back). Empty when nothing is missing. Pure.
 */
export function defaultSubscription(operation: Operation, sub: Subscription): JsonPatchOperation[] {
  return [...labelPatch(sub), ...(operation === "CREATE" ? finalizerPatch(sub) : [])];
}

function labelPatch(sub: Subscription): JsonPatchOperation[] {
  const labels = sub.metadata.labels;
  const wanted = subscriptionLabels(sub);
  if (!labels)
    return Object.keys(wanted).length > 0 ? [{ op: "add", path: "/metadata/labels", value: wanted }] : [];
  return Object.entries(wanted)
    .filter(([key, value]) => labels[key] !== value)
    .map(([key, value]) => ({
      op: key in labels ? "replace" : "add",
      path: `/metadata/labels/${pointerSegment(key)}`,
      value,
    }));
}

function finalizerPatch(sub: Subscription): JsonPatchOperation[] {
  const finalizers = sub.metadata.finalizers;
  if (!finalizers) return [{ op: "add", path: "/metadata/finalizers", value: [READ_MODEL_FINALIZER] }];
  return finalizers.includes(READ_MODEL_FINALIZER)
    ? []
    : [{ op: "add", path: "/metadata/finalizers/-", value: READ_MODEL_FINALIZER }];
}
