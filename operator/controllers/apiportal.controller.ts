/**
 * The ApiPortal controller: generates the portal's keys once, migrates its database, renders and applies
 * its components, runs its Kong in Managed mode (migrations, then rollout, then finish), routes its URLs
 * through an Ingress or HTTPRoutes when the spec asks, probes its gateway and reports all of it as
 * conditions. Deleting a portal removes its Kong entities and, with deletionPolicy Delete, its tables; owner
 * references let the garbage collector remove the children.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import type { V1Deployment, V1Ingress, V1Job, V1Secret } from "@kubernetes/client-node";
import type { ApiPortal, SecretKeyReference } from "../../api/v1alpha1/index.ts";
import { setCondition } from "../../controller-runtime/conditions.ts";
import type { ControllerOptions, ReconcileContext } from "../../controller-runtime/controller.ts";
import { isNotFound, UnknownKindError } from "../../controller-runtime/errors.ts";
import { withFinalizer } from "../../controller-runtime/finalizer.ts";
import {
  type KubeObject,
  type ObjectKey,
  type Result,
  TerminalError,
} from "../../controller-runtime/types.ts";
import {
  type ComponentClusterRoles,
  childName,
  portalUrls,
  renderComponents,
} from "../apiportal/components.ts";
import type { PortalDatabases } from "../apiportal/database.ts";
import {
  type ExposureOutcome,
  type ExposurePlan,
  exposureStatus,
  type HttpRoute,
  observeExposure,
  planExposure,
} from "../apiportal/exposure.ts";
import { probeGateway } from "../apiportal/gateway.ts";
import {
  gatewayAdminUrl,
  type KongRollout,
  kongDatabaseSettings,
  kongHash,
  managedKongNames,
  planKongRollout,
  renderKongDatabaseSecret,
  renderKongDeployment,
  renderKongNetworkPolicy,
  renderKongServices,
} from "../apiportal/managed-kong.ts";
import {
  desiredSessionSecret,
  desiredSigningSecret,
  type KeyFactory,
  type SigningJwk,
  secretHash,
} from "../apiportal/secrets.ts";
import {
  ConditionType,
  computeStatus,
  type Observation,
  type PortalObservations,
  Reason,
} from "../apiportal/status.ts";
import { currentObject, deleteOwned, ensure } from "../ensure.ts";
import {
  APIPORTAL,
  CONFIGMAP,
  DEPLOYMENT,
  HTTPROUTE,
  INGRESS,
  JOB,
  NETWORKPOLICY,
  ROLEBINDING,
  SECRET,
  SERVICE,
  SERVICEACCOUNT,
} from "../gvks.ts";
import { KongAdminClient } from "../kong/admin-client.ts";
import { MANAGED_TAG, portalTag } from "../kong/tags.ts";

/** Finalizer that removes the portal's Kong entities (and tables, if asked) before the portal goes. */
export const PORTAL_FINALIZER = "wicked.dev/portal-cleanup";
/** How often a portal that is not ready is looked at again, besides watch events. */
export const NOT_READY_RECHECK_MS = 15_000;

/** What the controller needs from outside. */
export interface ApiPortalControllerDeps {
  databases: PortalDatabases;
  /** Image for components when the ApiPortal names none. */
  defaultImage: string;
  /** The ClusterRoles the components with Kubernetes access are bound to. */
  clusterRoles: ComponentClusterRoles;
  /**
   * The operator's own namespace: a managed Kong's NetworkPolicy admits its Admin API from there (and from the
   * portal's namespace) only.
   */
  operatorNamespace: string;
  keys?: KeyFactory;
  /** Periodic resync, which also re-probes the gateway and the database. */
  resyncPeriodMs?: number;
}

/** Generates real keys: random bytes and RSA-2048 signing keys. */
export const cryptoKeys: KeyFactory = {
  randomBytes,
  signingKey(): SigningJwk {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    return {
      ...privateKey.export({ format: "jwk" }),
      kid: randomUUID(),
      alg: "RS256",
      use: "sig",
      kty: "RSA",
    };
  },
};

function readSecretKey(
  ctx: ReconcileContext,
  namespace: string,
  ref: SecretKeyReference,
): { value?: string; problem?: Observation } {
  const secret = ctx.cache.get<V1Secret & KubeObject>(SECRET, { namespace, name: ref.name });
  if (!secret) {
    return {
      problem: {
        status: "False",
        reason: Reason.SecretNotFound,
        message: `Secret ${namespace}/${ref.name} does not exist; create it with the key ${ref.key}`,
      },
    };
  }
  const value = secret.data?.[ref.key];
  if (value === undefined) {
    return {
      problem: {
        status: "False",
        reason: Reason.SecretKeyMissing,
        message: `Secret ${namespace}/${ref.name} has no key ${ref.key}; add it`,
      },
    };
  }
  return { value: Buffer.from(value, "base64").toString("utf8") };
}

async function refuseDuplicate(portal: ApiPortal, ctx: ReconcileContext): Promise<void> {
  const namespace = portal.metadata.namespace ?? "";
  const older = ctx.cache
    .list<ApiPortal & KubeObject>(APIPORTAL, namespace)
    .filter((p) => p.metadata.uid !== portal.metadata.uid && !p.metadata.deletionTimestamp)
    .find(
      (p) =>
        (p.metadata.creationTimestamp ?? "") < (portal.metadata.creationTimestamp ?? "") ||
        ((p.metadata.creationTimestamp ?? "") === (portal.metadata.creationTimestamp ?? "") &&
          (p.metadata.name ?? "") < (portal.metadata.name ?? "")),
    );
  if (!older) return;
  const message = `ApiPortal ${older.metadata.name} already serves namespace ${namespace}; there is one portal per namespace, so delete this one or move it to another namespace`;
  const { conditions, changed } = setCondition(
    portal.status?.conditions ?? [],
    {
      type: ConditionType.Ready,
      status: "False",
      reason: Reason.DuplicatePortal,
      message,
      observedGeneration: portal.metadata.generation ?? 0,
    },
    ctx.now(),
  );
  if (changed)
    await ctx.client.applyStatus({
      apiVersion: portal.apiVersion,
      kind: portal.kind,
      metadata: { name: portal.metadata.name, namespace },
      status: { conditions },
    } as KubeObject);
  throw new TerminalError(message);
}

async function applyPortal(
  portal: ApiPortal,
  ctx: ReconcileContext,
  deps: ApiPortalControllerDeps,
): Promise<Result> {
  await refuseDuplicate(portal, ctx);
  const namespace = portal.metadata.namespace ?? "";
  const keys = deps.keys ?? cryptoKeys;

  const sessionName = childName(portal, "session");
  const signingName = childName(portal, "signing-keys");
  const session = desiredSessionSecret(
    portal,
    await currentObject(ctx, SECRET, { namespace, name: sessionName }),
    keys,
  );
  const signing = desiredSigningSecret(
    portal,
    await currentObject(ctx, SECRET, { namespace, name: signingName }),
    keys,
    ctx.now(),
  );
  await ensure(ctx, SECRET, portal as KubeObject, session as KubeObject);
  await ensure(ctx, SECRET, portal as KubeObject, signing as KubeObject);

  const databaseUrl = readSecretKey(ctx, namespace, portal.spec.database.urlSecretRef);
  const database = databaseUrl.problem ?? (await deps.databases.migrate(databaseUrl.value ?? ""));

  const rendered = renderComponents(portal, {
    defaultImage: deps.defaultImage,
    clusterRoles: deps.clusterRoles,
    secrets: {
      session: { name: sessionName, hash: secretHash(session) },
      signing: { name: signingName, hash: secretHash(signing) },
    },
  });
  for (const c of rendered) {
    await ensure(ctx, CONFIGMAP, portal as KubeObject, c.configMap as KubeObject);
    await ensure(ctx, SERVICE, portal as KubeObject, c.service as KubeObject);
    if (c.serviceAccount)
      await ensure(ctx, SERVICEACCOUNT, portal as KubeObject, c.serviceAccount as KubeObject);
    if (c.roleBinding) await ensure(ctx, ROLEBINDING, portal as KubeObject, c.roleBinding as KubeObject);
    // Components roll out only on a migrated schema; until then the running version keeps serving.
    if (database.status === "True")
      await ensure(ctx, DEPLOYMENT, portal as KubeObject, c.deployment as KubeObject);
  }

  const kong = await applyManagedKong(portal, ctx, deps, session);
  const exposure = await applyExposure(portal, ctx);

  const tokenRef = portal.spec.gateway.adminTokenSecretRef;
  const token = tokenRef ? readSecretKey(ctx, namespace, tokenRef) : {};
  const gateway = token.problem ?? (await observeGateway(portal, kong, token.value));

  const urls = portalUrls(portal);
  const deployments: PortalObservations["deployments"] = rendered.map((c) => ({
    component: c.component,
    deployment: ctx.cache.get<V1Deployment & KubeObject>(DEPLOYMENT, {
      namespace,
      name: c.deployment.metadata?.name ?? "",
    }),
  }));
  if (kong) deployments.push({ component: "kong", deployment: kong.deployment });
  const { status, changed } = computeStatus(
    portal,
    {
      database,
      gateway,
      deployments,
      urls,
      exposed: observeExposure(portal, exposure.plan, exposure.outcome),
      exposure: exposureStatus(exposure.plan, exposure.outcome),
    },
    ctx.now(),
  );
  if (changed) {
    // Only this controller's conditions: others (the gateway's, the notifications') belong to their field managers.
    const own = new Set<string>(Object.values(ConditionType));
    await ctx.client.applyStatus({
      apiVersion: portal.apiVersion,
      kind: portal.kind,
      metadata: { name: portal.metadata.name, namespace },
      status: { ...status, conditions: status.conditions?.filter((c) => own.has(c.type)) },
    } as KubeObject);
  }
  const ready = status.conditions?.find((c) => c.type === ConditionType.Ready)?.status === "True";
  const gatewayDown = gateway.status !== "True" && gateway.reason !== Reason.GatewayNotConfigured;
  return ready && !gatewayDown ? {} : { requeueAfterMs: NOT_READY_RECHECK_MS };
}

/** Where a managed Kong stands after this reconcile applied what it could. */
interface ManagedKong {
  /** Why nothing runs yet: the database Secret is missing or its URL is unusable. */
  problem?: Observation;
  rollout?: KongRollout;
  /** Kong's Deployment as the cache holds it. */
  deployment: (V1Deployment & KubeObject) | undefined;
}

/**
 * Renders and applies a managed Kong (Services, NetworkPolicy, database settings, the migration Jobs and,
 * once migrated, the Deployment), or removes it when the portal is not in Managed mode. Undefined then. The
 * portal's session Secret keys the hash of Kong's settings.
 */
async function applyManagedKong(
  portal: ApiPortal,
  ctx: ReconcileContext,
  deps: ApiPortalControllerDeps,
  session: V1Secret,
): Promise<ManagedKong | undefined> {
  const namespace = portal.metadata.namespace ?? "";
  const names = managedKongNames(portal);
  const owner = portal as KubeObject;
  const managed = portal.spec.gateway.managed;
  if ((portal.spec.gateway.mode ?? "None") !== "Managed" || !managed) {
    await deleteOwned(ctx, DEPLOYMENT, owner, (n) => n === names.deployment);
    await deleteOwned(ctx, JOB, owner, (n) => n === names.migrateJob || n === names.finishJob);
    await deleteOwned(ctx, SERVICE, owner, (n) => n === names.proxyService || n === names.adminService);
    await deleteOwned(ctx, NETWORKPOLICY, owner, (n) => n === names.networkPolicy);
    await deleteOwned(ctx, SECRET, owner, (n) => n === names.databaseSecret);
    return undefined;
  }
  for (const service of renderKongServices(portal)) await ensure(ctx, SERVICE, owner, service);
  await ensure(ctx, NETWORKPOLICY, owner, renderKongNetworkPolicy(portal, deps.operatorNamespace));
  const deployment = ctx.cache.get<V1Deployment & KubeObject>(DEPLOYMENT, {
    namespace,
    name: names.deployment,
  });

  const url = readSecretKey(ctx, namespace, managed.databaseUrlSecretRef);
  if (url.problem) return { problem: url.problem, deployment };
  const parsed = kongDatabaseSettings(url.value ?? "");
  if ("problem" in parsed) return { problem: parsed.problem, deployment };
  await ensure(ctx, SECRET, owner, renderKongDatabaseSecret(portal, parsed.settings));

  const hash = kongHash(portal, parsed.settings, Buffer.from(session.data?.["session-key"] ?? "", "base64"));
  const job = (name: string) => ctx.cache.get<V1Job & KubeObject>(JOB, { namespace, name });
  const rollout = planKongRollout(portal, hash, {
    migrateJob: job(names.migrateJob),
    finishJob: job(names.finishJob),
    deployment,
  });
  for (const name of rollout.deleteJobs) {
    // A Job's pod template cannot change: one made for another image or database is replaced.
    await ctx.client.delete(JOB, { namespace, name }, { propagationPolicy: "Background" });
    ctx.log.info({ kind: "Job", object: name }, "Deleted Job");
    await ctx.recorder.event(
      owner,
      "Normal",
      "Deleted",
      `Deleted Job ${name} made for another Kong image or database`,
    );
  }
  for (const j of rollout.jobs) await ensure(ctx, JOB, owner, j);
  if (rollout.applyDeployment) await ensure(ctx, DEPLOYMENT, owner, renderKongDeployment(portal, hash));
  return { rollout, deployment };
}

/**
 * GatewayReady: the Admin API's answer, once there is a Kong to ask. A managed Kong is asked only when a
 * replica is available; until then (and when a migration failed) the rollout says what is going on.
 */
async function observeGateway(
  portal: ApiPortal,
  kong: ManagedKong | undefined,
  adminToken: string | undefined,
): Promise<Observation> {
  if (!kong) return probeGateway(portal, adminToken);
  if (kong.problem) return kong.problem;
  if (kong.rollout?.failed) return kong.rollout.failed;
  const progress = kong.rollout?.progress ?? "";
  if ((kong.deployment?.status?.availableReplicas ?? 0) === 0)
    return {
      status: "False",
      reason: Reason.ManagedGatewayUnavailable,
      message: `The managed Kong has no available replica yet: ${progress}`,
    };
  const probed = await probeGateway(portal, adminToken);
  return kong.rollout?.done || probed.status !== "True"
    ? probed
    : { ...probed, message: `${probed.message}; upgrading: ${progress}` };
}

/**
 * Applies the Ingress or HTTPRoutes spec.exposure asks for and deletes the routing objects it no longer
 * asks for. A cluster without the Gateway API CRDs answers 404 to an HTTPRoute: that is an outcome for the
 * Exposed condition, not an error, so other portals and the rest of this one carry on.
 */
async function applyExposure(
  portal: ApiPortal,
  ctx: ReconcileContext,
): Promise<{ plan: ExposurePlan | undefined; outcome: ExposureOutcome | undefined }> {
  const namespace = portal.metadata.namespace ?? "";
  const owner = portal as KubeObject;
  const plan = planExposure(portal);
  const ingressName = plan?.ingress?.metadata.name;
  const routeNames = new Set((plan?.httpRoutes ?? []).map((r) => r.metadata.name ?? ""));
  await deleteOwned(ctx, INGRESS, owner, (n) => n !== ingressName);
  await deleteOwned(ctx, HTTPROUTE, owner, (n) => !routeNames.has(n));
  if (!plan) return { plan, outcome: undefined };
  if (plan.kind === "Ingress") {
    if (plan.ingress) await ensure(ctx, INGRESS, owner, plan.ingress);
    const ingress = ctx.cache.get<V1Ingress & KubeObject>(INGRESS, { namespace, name: ingressName ?? "" });
    return { plan, outcome: { applied: true, ...(ingress ? { ingress } : {}) } };
  }
  try {
    for (const route of plan.httpRoutes ?? []) await ensure(ctx, HTTPROUTE, owner, route);
  } catch (err) {
    if (isNotFound(err) || err instanceof UnknownKindError)
      return { plan, outcome: { applied: false, reason: "GatewayApiNotInstalled" } };
    throw err;
  }
  const httpRoutes = [...routeNames]
    .map((name) => ctx.cache.get<HttpRoute>(HTTPROUTE, { namespace, name }))
    .filter((r): r is HttpRoute => r !== undefined);
  return { plan, outcome: { applied: true, httpRoutes } };
}

async function cleanupPortal(
  portal: ApiPortal,
  ctx: ReconcileContext,
  deps: ApiPortalControllerDeps,
): Promise<Result> {
  const namespace = portal.metadata.namespace ?? "";
  const adminUrl = gatewayAdminUrl(portal);
  if (adminUrl) {
    const tokenRef = portal.spec.gateway.adminTokenSecretRef;
    const token = tokenRef ? readSecretKey(ctx, namespace, tokenRef).value : undefined;
    const tags = [MANAGED_TAG, portalTag(namespace, portal.metadata.name ?? "")];
    const client = new KongAdminClient(adminUrl, token ? { token } : {});
    if (portal.spec.gateway.mode === "Managed") {
      // A managed Kong goes with the portal; when it cannot be reached any more its entities stay in its
      // database, tagged with the portal, for a portal of the same name to take over.
      const deleted = await client.deleteTagged(tags).catch(async (err: unknown) => {
        await ctx.recorder.event(
          portal as KubeObject,
          "Warning",
          "KongEntitiesKept",
          `The managed Kong did not answer (${(err as Error).message}); its entities stay in its database`,
        );
        return undefined;
      });
      if (deleted !== undefined) ctx.log.info({ deleted }, "Deleted the portal's Kong entities");
    } else {
      const deleted = await client.deleteTagged(tags);
      ctx.log.info({ deleted }, "Deleted the portal's Kong entities");
    }
  }
  if (portal.spec.database.deletionPolicy === "Delete") {
    const url = readSecretKey(ctx, namespace, portal.spec.database.urlSecretRef);
    if (url.value !== undefined) {
      await deps.databases.dropSchema(url.value);
      ctx.log.info("Dropped the portal's database tables (deletionPolicy Delete)");
    } else {
      // Deleted with its namespace, the Secret may go first; holding the portal forever would not help.
      await ctx.recorder.event(
        portal as KubeObject,
        "Warning",
        "TablesKept",
        "The database Secret is gone, so the portal's tables were not dropped (deletionPolicy Delete); drop them by hand",
      );
    }
  }
  return {};
}

/** The ApiPortal controller's registration with the manager. */
export function apiPortalController(deps: ApiPortalControllerDeps): ControllerOptions {
  return {
    name: "apiportal",
    for: APIPORTAL,
    owns: [
      DEPLOYMENT,
      SERVICE,
      CONFIGMAP,
      SECRET,
      SERVICEACCOUNT,
      ROLEBINDING,
      JOB,
      NETWORKPOLICY,
      INGRESS,
      HTTPROUTE,
    ],
    resyncPeriodMs: deps.resyncPeriodMs ?? 5 * 60_000,
    async reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<Result> {
      const portal = ctx.cache.get<ApiPortal & KubeObject>(APIPORTAL, key);
      if (!portal) return {};
      return withFinalizer(ctx.client, APIPORTAL, portal, PORTAL_FINALIZER, {
        apply: (p) => applyPortal(p, ctx, deps),
        cleanup: (p) => cleanupPortal(p, ctx, deps),
      });
    },
  };
}
