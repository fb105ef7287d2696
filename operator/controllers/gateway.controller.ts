/**
 * The gateway controller: one sync of a portal's Kong per reconcile. It computes the desired Kong state from
 * the cached Apis, Plans and approved Subscriptions (with their credentials), lets the sync engine make the
 * minimal writes, and reports the outcome as the Programmed condition of each Api and Subscription and as
 * Drifted Events. A periodic resync finds and corrects drift.
 */
import { createPublicKey } from "node:crypto";
import type { V1Secret, V1Service } from "@kubernetes/client-node";
import type { Api, ApiClient, ApiPortal, Plan, Subscription } from "../../api/v1alpha1/index.ts";
import type { ControllerOptions, ReconcileContext } from "../../controller-runtime/controller.ts";
import { isConflict, isNotFound } from "../../controller-runtime/errors.ts";
import { specChanged } from "../../controller-runtime/predicates.ts";
import {
  type KubeObject,
  keyString,
  type ObjectKey,
  objectKey,
  type Result,
} from "../../controller-runtime/types.ts";
import { childName } from "../apiportal/components.ts";
import { gatewayAdminUrl } from "../apiportal/managed-kong.ts";
import { publicJwks } from "../apiportal/secrets.ts";
import { API, APICLIENT, APIPORTAL, PLAN, SECRET, SERVICE, SUBSCRIPTION } from "../gvks.ts";
import { KongAdminClient } from "../kong/admin-client.ts";
import {
  type DesiredSubscription,
  desiredKongState,
  kongIdsOfApi,
  type SubscriptionCredential,
  SubscriptionEntities,
} from "../kong/desired.ts";
import { KongLedger } from "../kong/ledger.ts";
import type { KongState } from "../kong/state.ts";
import { type SyncReport, syncKong } from "../kong/sync.ts";
import { type ResourceRef, resourceKey, scopeTags } from "../kong/tags.ts";
import { applyOwnStatus, type ConditionInput } from "../status.ts";
import { approvalState } from "../subscription/approval.ts";
import {
  byoCredential,
  credentialsSecretName,
  PREVIOUS_VALID_UNTIL_ANNOTATION,
} from "../subscription/credentials.ts";
import type { ProgrammedSubscriptions } from "../subscription/programmed.ts";
import { type Cached, live, portalOf, portalOfObject } from "../world.ts";
import { unresolvedApiRefs } from "./api.controller.ts";
import { unresolvedSubscriptionRefs } from "./subscription.controller.ts";

/** Field manager of the Programmed conditions, so the resource controllers' status writes leave them alone. */
export const GATEWAY_FIELD_MANAGER = "wicked-gateway";
/** Transient failures: the sync is retried with backoff. */
const TRANSIENT = new Set(["KongUnreachable", "KongUnavailable"]);

/** The verdict on a Subscription whose entities are all in Kong. */
const SUBSCRIPTION_PROGRAMMED: ConditionInput = {
  type: "Programmed",
  status: "True",
  reason: "Programmed",
  message: "The consumer, its credentials, ACL and rate limits are in Kong",
};

/** What the gateway controller needs. */
export interface GatewayControllerDeps {
  /** How often each portal's Kong is read whole and compared with the desired state (drift). */
  resyncPeriodMs?: number;
  /** Where the verdict on each Subscription goes; the Subscription controller writes it into its status. */
  programmed: ProgrammedSubscriptions;
}

const CREDENTIALS_NOT_ISSUED = "Its credentials are not issued yet";

/**
 * A burst of changes (a thousand Subscriptions applied at once) waits this long to become one sync, or twice
 * as long as the last sync took: a sync of a large portal costs time in proportion to its size, so a
 * rollout of many Subscriptions spends at most a third of the operator's time syncing, however large.
 */
const BATCH_DELAY_MS = 500;
const MAX_BATCH_DELAY_MS = 10_000;

/** What the gateway keeps per portal between syncs. */
interface PortalMemory {
  /** What earlier syncs saw in Kong as desired (drift detection). */
  ledger: KongLedger;
  /** Each Subscription's desired entities, reused while its inputs are unchanged. */
  entities: SubscriptionEntities;
  /** Kong's state as the last successful sync left it, and when Kong was last read whole. */
  known?: { state: KongState; readAt: number };
}

function decode(secret: V1Secret | undefined, key: string): string | undefined {
  const value = secret?.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
}

/** The RS256 public keys of a portal's signing Secret as PEM, current key first. */
export function signingKeysPem(secret: V1Secret | undefined): string[] {
  if (!secret) return [];
  return publicJwks(secret).keys.map((jwk) =>
    createPublicKey({ key: jwk as never, format: "jwk" })
      .export({ type: "spki", format: "pem" })
      .toString(),
  );
}

/** The credential of a subscription as the gateway needs it, from its (generated or own) Secret. */
function credentialOf(
  ctx: ReconcileContext,
  sub: Subscription,
  api: Api,
  signingPems: string[],
): SubscriptionCredential | undefined {
  const namespace = sub.metadata.namespace ?? "";
  const byo = sub.spec.credentials?.secretRef;
  const secret = ctx.cache.get<V1Secret & KubeObject>(SECRET, {
    namespace,
    name: byo?.name ?? credentialsSecretName(sub),
  });
  if (byo) {
    const { credential } = byoCredential(sub, api, secret);
    if (!credential) return undefined;
    return credential.kind === "oauth2"
      ? { kind: "jwt", clientId: credential.clientId, publicKeysPem: signingPems }
      : credential;
  }
  if ((api.spec.auth?.type ?? "key-auth") === "oauth2") {
    const clientId = decode(secret, "clientId");
    return clientId ? { kind: "jwt", clientId, publicKeysPem: signingPems } : undefined;
  }
  const apiKey = decode(secret, "apiKey");
  if (!apiKey) return undefined;
  const previous = decode(secret, "previousApiKey");
  const validUntil = secret?.metadata?.annotations?.[PREVIOUS_VALID_UNTIL_ANNOTATION];
  const keys =
    previous && validUntil && Date.parse(validUntil) > ctx.now().getTime() ? [apiKey, previous] : [apiKey];
  return { kind: "key-auth", keys };
}

function upstreamOf(api: Api): string {
  const ref = api.spec.upstream.serviceRef;
  if (!ref) return api.spec.upstream.url ?? "";
  return `http://${ref.name}.${api.metadata.namespace}.svc:${ref.port}${ref.path ?? ""}`;
}

/** Everything the desired state is computed from, gathered from the cache. */
function gather(ctx: ReconcileContext, portal: Cached<ApiPortal>) {
  const namespace = portal.metadata.namespace ?? "";
  const alive = <T extends KubeObject>(o: T) => !o.metadata.deletionTimestamp;
  const plans = ctx.cache.list<Cached<Plan>>(PLAN, namespace).filter(alive);
  const apis = ctx.cache
    .list<Cached<Api>>(API, namespace)
    .filter(alive)
    .filter(
      (api) =>
        !unresolvedApiRefs(
          api,
          (n) => live<Plan>(ctx.cache, PLAN, namespace, n),
          (n) => ctx.cache.get<V1Service & KubeObject>(SERVICE, { namespace, name: n }),
        ),
    );
  const signingPems = signingKeysPem(
    ctx.cache.get<V1Secret & KubeObject>(SECRET, { namespace, name: childName(portal, "signing-keys") }),
  );
  const subscriptions: DesiredSubscription[] = [];
  const notDesired = new Map<string, string>();
  const allSubscriptions = ctx.cache.list<Cached<Subscription>>(SUBSCRIPTION, namespace).filter(alive);
  for (const sub of allSubscriptions) {
    const client = live<ApiClient>(ctx.cache, APICLIENT, namespace, sub.spec.clientRef.name);
    const api = apis.find((a) => a.metadata.name === sub.spec.apiRef.name);
    const plan = live<Plan>(ctx.cache, PLAN, namespace, sub.spec.planRef.name);
    const why = !api
      ? `Api ${sub.spec.apiRef.name} is not published`
      : (unresolvedSubscriptionRefs(sub, client, api, plan) ??
        (plan && !approvalState(sub, plan).approved ? "The subscription is not approved" : undefined));
    const credential = !why && api ? credentialOf(ctx, sub, api, signingPems) : undefined;
    if (why || !api || !plan || !credential) {
      notDesired.set(sub.metadata.name ?? "", why ?? CREDENTIALS_NOT_ISSUED);
      continue;
    }
    subscriptions.push({ subscription: sub, api, plan, credential });
  }
  return {
    apis,
    plans,
    subscriptions,
    notDesired,
    // The verdicts are about these: a Subscription created while Kong is synced was not in this sync.
    allSubscriptions,
    allApis: ctx.cache.list<Cached<Api>>(API, namespace).filter(alive),
  };
}

function errorsByOwner(report: SyncReport): Map<string, string> {
  const byOwner = new Map<string, string>();
  for (const e of report.errors) {
    if (!e.owner) continue;
    const key = resourceKey(e.owner);
    byOwner.set(key, byOwner.has(key) ? `${byOwner.get(key)}; ${e.message}` : e.message);
  }
  return byOwner;
}

const ref = (kind: ResourceRef["kind"], o: KubeObject): ResourceRef => ({
  kind,
  namespace: o.metadata.namespace ?? "",
  name: o.metadata.name ?? "",
});

/**
 * Writes one object's Programmed condition. An object deleted or changed since the cache saw it is skipped:
 * its change queues this portal again, and the next sync writes the condition from the fresh object.
 */
async function setProgrammed(
  ctx: ReconcileContext,
  obj: KubeObject,
  condition: ConditionInput,
  fields: Record<string, unknown> = {},
) {
  try {
    await applyOwnStatus(ctx, obj, [condition], fields, GATEWAY_FIELD_MANAGER);
  } catch (err) {
    if (!isConflict(err) && !isNotFound(err)) throw err;
  }
}

async function syncPortal(
  portal: Cached<ApiPortal>,
  ctx: ReconcileContext,
  memory: PortalMemory,
  deps: GatewayControllerDeps,
): Promise<Result> {
  const namespace = portal.metadata.namespace ?? "";
  const world = gather(ctx, portal);
  const adminUrl = gatewayAdminUrl(portal);
  if (!adminUrl) {
    const c: ConditionInput = {
      type: "Programmed",
      status: "False",
      reason: "GatewayNotConfigured",
      message: `ApiPortal ${portal.metadata.name} has no gateway; set spec.gateway to publish APIs`,
    };
    for (const api of world.allApis) await setProgrammed(ctx, api, c);
    for (const sub of ctx.cache.list<Cached<Subscription>>(SUBSCRIPTION, namespace))
      deps.programmed.set(objectKey(sub), c);
    memory.known = undefined;
    return {};
  }

  const tokenRef = portal.spec.gateway.adminTokenSecretRef;
  const token = tokenRef
    ? decode(ctx.cache.get<V1Secret & KubeObject>(SECRET, { namespace, name: tokenRef.name }), tokenRef.key)
    : undefined;
  // Kong is read whole once per resync period (the drift sweep); in between, a sync diffs against what the
  // last one left, so a change costs its own writes and no reads.
  const resyncMs = deps.resyncPeriodMs ?? DEFAULT_GATEWAY_RESYNC_MS;
  const now = ctx.now().getTime();
  const known = memory.known && now - memory.known.readAt < resyncMs * 0.9 ? memory.known : undefined;
  memory.known = undefined;
  const desired = desiredKongState(
    {
      portal,
      apis: world.apis,
      plans: world.plans,
      subscriptions: world.subscriptions,
      resolveUpstream: upstreamOf,
    },
    memory.entities,
  );
  let report: SyncReport;
  try {
    report = await syncKong(new KongAdminClient(adminUrl, token ? { token } : {}), desired, {
      scopeTags: scopeTags(namespace, portal.metadata.name ?? ""),
      ledger: memory.ledger,
      signal: ctx.signal,
      log: ctx.log,
      ...(known ? { known: known.state } : {}),
      onSubscriptionSynced: ({ namespace, name }) =>
        deps.programmed.set({ namespace, name }, SUBSCRIPTION_PROGRAMMED),
    });
  } catch (err) {
    // Kong could not even be read: say so on the portal, then retry with backoff.
    const status = (err as { status?: number }).status ?? 0;
    const reason = status === 0 ? "KongUnreachable" : status >= 500 ? "KongUnavailable" : "KongRefused";
    await applyOwnStatus(
      ctx,
      portal,
      [{ type: "GatewaySynced", status: "False", reason, message: `${(err as Error).message}; retrying` }],
      {},
      GATEWAY_FIELD_MANAGER,
    );
    throw err;
  }
  if (report.after) memory.known = { state: report.after, readAt: known?.readAt ?? now };
  if (report.writes > 0)
    ctx.log.info({ writes: report.writes, created: report.created, deleted: report.deleted }, "Synced Kong");

  const errors = errorsByOwner(report);
  const transient = report.errors.some((e) => TRANSIENT.has(e.reason));
  const firstReason = (owner: ResourceRef) =>
    report.errors.find((e) => e.owner && resourceKey(e.owner) === resourceKey(owner))?.reason ??
    "KongRefused";
  for (const api of world.allApis) {
    const r = ref("Api", api);
    const published = world.apis.some((a) => a.metadata.uid === api.metadata.uid);
    const error = errors.get(resourceKey(r));
    const condition: ConditionInput = error
      ? { type: "Programmed", status: "False", reason: firstReason(r), message: error }
      : published
        ? {
            type: "Programmed",
            status: "True",
            reason: "Programmed",
            message: "The API's service, routes and plugins are in Kong",
          }
        : {
            type: "Programmed",
            status: "False",
            reason: "RefNotFound",
            message: "Not published until its references resolve; see ResolvedRefs",
          };
    await setProgrammed(ctx, api, condition, published ? { kong: kongIdsOfApi(portal, api) } : {});
  }
  for (const sub of world.allSubscriptions) {
    const r = ref("Subscription", sub);
    const error = errors.get(resourceKey(r));
    const notDesired = world.notDesired.get(sub.metadata.name ?? "");
    const condition: ConditionInput = error
      ? { type: "Programmed", status: "False", reason: firstReason(r), message: error }
      : notDesired
        ? {
            type: "Programmed",
            status: "False",
            reason: "NotProgrammed",
            message: `Not in Kong: ${notDesired}`,
          }
        : SUBSCRIPTION_PROGRAMMED;
    // A new subscription whose credentials this sync did not see yet gets no verdict: the Subscription
    // controller waits for the real one instead of writing a passing state.
    const key = objectKey(sub);
    if (notDesired === CREDENTIALS_NOT_ISSUED && !error && !deps.programmed.get(key)) continue;
    deps.programmed.set(key, condition);
  }
  for (const drift of report.drift) {
    if (!drift.owner) continue;
    const obj = ctx.cache.get(
      drift.owner.kind === "Api" ? API : drift.owner.kind === "Subscription" ? SUBSCRIPTION : APIPORTAL,
      drift.owner,
    );
    const what = drift.kind === "missing" ? "was missing" : `had been changed (${drift.fields.join(", ")})`;
    await ctx.recorder.event(
      obj ?? portal,
      "Warning",
      "Drifted",
      `Kong ${drift.entity} ${what}; ${drift.corrected ? "restored it" : "could not restore it yet"}`,
    );
  }
  const inSync: ConditionInput =
    report.errors.length > 0
      ? {
          type: "GatewaySynced",
          status: "False",
          reason: report.errors[0]?.reason ?? "KongRefused",
          message: `${report.errors.length} Kong write(s) failed; the Programmed condition of each API and Subscription says why`,
        }
      : report.drift.length > 0
        ? {
            type: "GatewaySynced",
            status: "True",
            reason: "DriftCorrected",
            message: `Corrected ${report.drift.length} Kong entities changed outside wicked; see the Drifted events`,
          }
        : {
            type: "GatewaySynced",
            status: "True",
            reason: "InSync",
            message: "Kong matches the desired state",
          };
  await applyOwnStatus(ctx, portal, [inSync], {}, GATEWAY_FIELD_MANAGER);
  if (transient)
    throw new Error(
      `Kong sync incomplete: ${report.errors.filter((e) => TRANSIENT.has(e.reason)).length} write(s) failed transiently; retrying`,
    );
  return {};
}

const DEFAULT_GATEWAY_RESYNC_MS = 60_000;

/** The gateway controller's registration. */
export function gatewayController(deps: GatewayControllerDeps): ControllerOptions {
  const memories = new Map<string, PortalMemory>();
  let lastSyncMs = 0;
  const batchDelayMs = () => Math.min(MAX_BATCH_DELAY_MS, Math.max(BATCH_DELAY_MS, 2 * lastSyncMs));
  return {
    name: "gateway",
    for: APIPORTAL,
    resyncPeriodMs: deps.resyncPeriodMs ?? DEFAULT_GATEWAY_RESYNC_MS,
    // Specs, not statuses (the gateway's own Programmed writes among them); Secrets and Services have none.
    watches: [API, PLAN, SUBSCRIPTION, APICLIENT, SECRET, SERVICE].map((gvk) => ({
      gvk,
      map: portalOfObject,
      batchDelayMs,
      ...(gvk === SECRET || gvk === SERVICE ? {} : { relevant: specChanged }),
    })),
    async reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<Result> {
      const portal = ctx.cache.get<Cached<ApiPortal>>(APIPORTAL, key);
      const id = keyString(key);
      if (!portal || portal.metadata.deletionTimestamp) {
        memories.delete(id);
        return {};
      }
      if (portalOf(ctx.cache, key.namespace)?.metadata.uid !== portal.metadata.uid) return {};
      const memory = memories.get(id) ?? { ledger: new KongLedger(), entities: new SubscriptionEntities() };
      memories.set(id, memory);
      const started = Date.now();
      try {
        return await syncPortal(portal, ctx, memory, deps);
      } finally {
        lastSyncMs = Date.now() - started;
      }
    },
  };
}
