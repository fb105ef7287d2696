/**
 * The ApiPortal controller: generates the portal's keys once, migrates its database, renders and applies
 * its components, probes its gateway and reports all of it as conditions. Deleting a portal removes its Kong
 * entities and, with deletionPolicy Delete, its tables; owner references let the garbage collector remove
 * the children.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import type { V1Deployment, V1Secret } from "@kubernetes/client-node";
import type { ApiPortal, SecretKeyReference } from "../../api/v1alpha1/index.ts";
import {
  type ComponentClusterRoles,
  childName,
  portalUrls,
  renderComponents,
} from "../apiportal/components.ts";
import type { PortalDatabases } from "../apiportal/database.ts";
import { probeGateway } from "../apiportal/gateway.ts";
import {
  desiredSessionSecret,
  desiredSigningSecret,
  type KeyFactory,
  type SigningJwk,
  secretHash,
} from "../apiportal/secrets.ts";
import { ConditionType, computeStatus, type Observation, Reason } from "../apiportal/status.ts";
import { currentObject, ensure } from "../ensure.ts";
import { APIPORTAL, CONFIGMAP, DEPLOYMENT, ROLEBINDING, SECRET, SERVICE, SERVICEACCOUNT } from "../gvks.ts";
import { KongAdminClient } from "../kong/admin-client.ts";
import { MANAGED_TAG, portalTag } from "../kong/tags.ts";
import { setCondition } from "../runtime/conditions.ts";
import type { ControllerOptions, ReconcileContext } from "../runtime/controller.ts";
import { withFinalizer } from "../runtime/finalizer.ts";
import { type KubeObject, type ObjectKey, type Result, TerminalError } from "../runtime/types.ts";

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

  const tokenRef = portal.spec.gateway.adminTokenSecretRef;
  const token = tokenRef ? readSecretKey(ctx, namespace, tokenRef) : {};
  const gateway = token.problem ?? (await probeGateway(portal, token.value));

  const urls = portalUrls(portal);
  const deployments = rendered.map((c) => ({
    component: c.component,
    deployment: ctx.cache.get<V1Deployment & KubeObject>(DEPLOYMENT, {
      namespace,
      name: c.deployment.metadata?.name ?? "",
    }),
  }));
  const { status, changed } = computeStatus(portal, { database, gateway, deployments, urls }, ctx.now());
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

async function cleanupPortal(
  portal: ApiPortal,
  ctx: ReconcileContext,
  deps: ApiPortalControllerDeps,
): Promise<Result> {
  const namespace = portal.metadata.namespace ?? "";
  const adminUrl = portal.spec.gateway.adminUrl;
  if (adminUrl) {
    const tokenRef = portal.spec.gateway.adminTokenSecretRef;
    const token = tokenRef ? readSecretKey(ctx, namespace, tokenRef).value : undefined;
    const deleted = await new KongAdminClient(adminUrl, token ? { token } : {}).deleteTagged([
      MANAGED_TAG,
      portalTag(namespace, portal.metadata.name ?? ""),
    ]);
    ctx.log.info({ deleted }, "Deleted the portal's Kong entities");
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
    owns: [DEPLOYMENT, SERVICE, CONFIGMAP, SECRET, SERVICEACCOUNT, ROLEBINDING],
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
