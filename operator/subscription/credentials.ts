/**
 * A Subscription's credentials Secret: an API key (key-auth) or an OAuth2 client id and secret (oauth2),
 * with the token URL and API URL beside them. Generated once from cryptographic randomness (injected, so
 * the functions stay pure), rotated when spec.credentials.rotation.requestedAt is later than the last issue;
 * the previous API key keeps working for overlapSeconds.
 */
import type { V1Secret } from "@kubernetes/client-node";
import { type Api, type ApiPortal, DEFAULT_KEY_HEADER, type Subscription } from "../../api/v1alpha1/index.ts";
import { labelValue } from "../../controller-runtime/labels.ts";
import { portalUrls } from "../apiportal/components.ts";

/**
 * The label that grants a Secret to one Subscription: the operator puts it on the Secrets it generates, and a
 * bring-your-own Secret must carry it, set by someone who may write Secrets in the namespace. Without it
 * anyone allowed to create a Subscription could name another subscription's Secret and read its credentials.
 */
export const SUBSCRIPTION_LABEL = "wicked.dev/subscription";

/** When the current credentials were issued. */
export const ISSUED_AT_ANNOTATION = "wicked.dev/credentials-issued-at";
/** Until when the previous API key still works (absent when there is none). */
export const PREVIOUS_VALID_UNTIL_ANNOTATION = "wicked.dev/previous-key-valid-until";

/** Name of the generated credentials Secret of a subscription. */
export function credentialsSecretName(sub: Subscription): string {
  return `${sub.metadata.name}-credentials`;
}

/** Randomness for credentials: an URL-safe random string of n bytes. */
export type RandomToken = (bytes: number) => string;

function decode(secret: V1Secret | undefined, key: string): string | undefined {
  const value = secret?.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
}

/** The credentials a subscription currently has, as the gateway needs them. */
export type IssuedCredential =
  | { kind: "key-auth"; keys: string[]; validUntil?: Date }
  | { kind: "oauth2"; clientId: string; clientSecret: string };

/** What desiredCredentialsSecret decided. */
export interface CredentialsDecision {
  secret: V1Secret;
  credential: IssuedCredential;
  issuedAt: string;
  /** When to look again (the end of a rotation overlap). */
  recheckAt?: Date;
}

/** The URL clients call the API under: the gateway URL plus the API's first route path. */
export function apiUrl(portal: ApiPortal, api: Api): string {
  const path = api.spec.routes[0]?.paths?.[0] ?? "/";
  return `${portalUrls(portal).gateway.replace(/\/+$/, "")}${path}`;
}

/** Builds the generated Secret, keeping what exists unless a rotation is due. */
export function desiredCredentialsSecret(
  sub: Subscription,
  api: Api,
  portal: ApiPortal,
  existing: V1Secret | undefined,
  random: RandomToken,
  now: Date,
): CredentialsDecision {
  const issuedAt = existing?.metadata?.annotations?.[ISSUED_AT_ANNOTATION];
  const rotation = sub.spec.credentials?.rotation;
  const rotate =
    existing !== undefined &&
    rotation !== undefined &&
    (issuedAt === undefined || Date.parse(rotation.requestedAt) > Date.parse(issuedAt));
  // A request dated in the future counts as honoured at that time, so it does not rotate on every reconcile.
  const newIssuedAt = rotate
    ? new Date(Math.max(now.getTime(), Date.parse(rotation.requestedAt))).toISOString()
    : (issuedAt ?? now.toISOString());
  const urls = portalUrls(portal);
  const data: Record<string, string> = { apiUrl: apiUrl(portal, api) };
  const annotations: Record<string, string> = { [ISSUED_AT_ANNOTATION]: newIssuedAt };
  let credential: IssuedCredential;
  let recheckAt: Date | undefined;

  if ((api.spec.auth?.type ?? "key-auth") === "oauth2") {
    const clientId = decode(existing, "clientId") ?? `wk-${random(12)}`;
    const clientSecret = rotate || !existing ? random(32) : (decode(existing, "clientSecret") ?? random(32));
    Object.assign(data, { clientId, clientSecret, tokenUrl: `${urls.auth.replace(/\/+$/, "")}/token` });
    credential = { kind: "oauth2", clientId, clientSecret };
  } else {
    const current = decode(existing, "apiKey");
    const apiKey = rotate || !current ? random(32) : current;
    data.apiKey = apiKey;
    data.keyHeader = api.spec.auth?.keyHeader ?? DEFAULT_KEY_HEADER;
    const keys = [apiKey];
    const overlap = rotation?.overlapSeconds ?? 0;
    let previous: string | undefined;
    let validUntil: string | undefined;
    if (rotate && current && overlap > 0) {
      previous = current;
      validUntil = new Date(now.getTime() + overlap * 1000).toISOString();
    } else if (!rotate) {
      previous = decode(existing, "previousApiKey");
      validUntil = existing?.metadata?.annotations?.[PREVIOUS_VALID_UNTIL_ANNOTATION];
    }
    if (previous && validUntil && Date.parse(validUntil) > now.getTime()) {
      data.previousApiKey = previous;
      annotations[PREVIOUS_VALID_UNTIL_ANNOTATION] = validUntil;
      keys.push(previous);
      recheckAt = new Date(validUntil);
    }
    credential = { kind: "key-auth", keys, ...(recheckAt ? { validUntil: recheckAt } : {}) };
  }

  const secret: V1Secret = {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: {
      name: credentialsSecretName(sub),
      namespace: sub.metadata.namespace,
      labels: {
        "app.kubernetes.io/managed-by": "wicked-operator",
        [SUBSCRIPTION_LABEL]: labelValue(sub.metadata.name ?? ""),
      },
      annotations,
      ownerReferences: [
        {
          apiVersion: sub.apiVersion,
          kind: sub.kind,
          name: sub.metadata.name ?? "",
          uid: sub.metadata.uid ?? "",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
  };
  return { secret, credential, issuedAt: newIssuedAt, ...(recheckAt ? { recheckAt } : {}) };
}

/**
 * Why `secret` may not hold the credentials of `sub`, or undefined when it is granted to it: it carries
 * SUBSCRIPTION_LABEL with the subscription's name and is controlled by no other object. Pure.
 */
export function secretGrantProblem(
  sub: Pick<Subscription, "metadata">,
  secret: Pick<V1Secret, "metadata">,
): string | undefined {
  const name = sub.metadata.name ?? "";
  const controller = secret.metadata?.ownerReferences?.find((o) => o.controller);
  if (controller && !(controller.kind === "Subscription" && controller.name === name))
    return `belongs to ${controller.kind} ${controller.name}, and a Subscription may use only a Secret granted to it`;
  const grantee = secret.metadata?.labels?.[SUBSCRIPTION_LABEL];
  const wanted = labelValue(name);
  if (grantee === undefined)
    return `is not granted to Subscription ${name}: label the Secret ${SUBSCRIPTION_LABEL}=${wanted} to grant it`;
  if (grantee !== wanted)
    return `is granted to Subscription ${grantee} (label ${SUBSCRIPTION_LABEL}), not to ${name}; give this Subscription a Secret of its own`;
  return undefined;
}

/** Reads bring-your-own credentials from a Secret granted to `sub`; undefined with a reason when unusable. */
export function byoCredential(
  sub: Pick<Subscription, "metadata">,
  api: Api,
  secret: V1Secret | undefined,
): { credential?: IssuedCredential; problem?: string; reason?: "InvalidSecret" | "SecretNotGranted" } {
  if (!secret) return { problem: "does not exist", reason: "InvalidSecret" };
  const notGranted = secretGrantProblem(sub, secret);
  if (notGranted) return { problem: notGranted, reason: "SecretNotGranted" };
  if ((api.spec.auth?.type ?? "key-auth") === "oauth2") {
    const clientId = decode(secret, "clientId");
    const clientSecret = decode(secret, "clientSecret");
    if (!clientId || !clientSecret)
      return { problem: "needs the keys clientId and clientSecret", reason: "InvalidSecret" };
    return { credential: { kind: "oauth2", clientId, clientSecret } };
  }
  const apiKey = decode(secret, "apiKey");
  if (!apiKey) return { problem: "needs the key apiKey", reason: "InvalidSecret" };
  if (apiKey.length < 16)
    return {
      problem: "holds an apiKey shorter than 16 characters; use a longer random key",
      reason: "InvalidSecret",
    };
  return { credential: { kind: "key-auth", keys: [apiKey] } };
}
