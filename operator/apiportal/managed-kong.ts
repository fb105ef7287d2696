/**
 * A managed Kong (spec.gateway.mode Managed) as pure functions of the ApiPortal and of what the cluster
 * holds: Kong 3.x in DB mode as a Deployment with a proxy and an Admin API Service, a NetworkPolicy that
 * keeps the Admin API inside the portal's and the operator's namespaces, a Secret with Kong's KONG_PG_*
 * settings derived from the database URL the spec names, and the migration Jobs. The rollout follows Kong's
 * upgrade path: `kong migrations bootstrap` (a no-op once bootstrapped) and `kong migrations up` with the new
 * image, then the Deployment rolls, then `kong migrations finish`; each step starts only when the previous
 * one is done, so old nodes never run against finished migrations of a newer Kong.
 */
import { createHmac } from "node:crypto";
import type {
  V1Container,
  V1Deployment,
  V1EnvVar,
  V1Job,
  V1LabelSelector,
  V1PodSpec,
  V1Secret,
  V1Service,
} from "@kubernetes/client-node";
import type { ApiPortal } from "../../api/v1alpha1/index.ts";
import type { KubeObject } from "../../controller-runtime/types.ts";
import { childMetadata, childName, componentLabels } from "./components.ts";
import { type Observation, Reason } from "./status.ts";

/** The image a managed Kong runs when the spec names none. */
export const DEFAULT_KONG_IMAGE = "kong:3.9";
/** Port of the proxy Service (Kong's proxy listens on 8000 in the pod). */
export const KONG_PROXY_PORT = 80;
/** Port of the Admin API, in the pod and on its Service. */
export const KONG_ADMIN_PORT = 8001;
/** Kong's status listener: /status and, since 3.3, /status/ready for probes. */
export const KONG_STATUS_PORT = 8100;
const KONG_PROXY_CONTAINER_PORT = 8000;
/** Annotation with the hash of what a migration Job or Kong's pods were made for: image and database. */
export const KONG_HASH_ANNOTATION = "wicked.dev/kong-hash";
/** Label value of app.kubernetes.io/component on Kong's pods and Services. */
export const KONG_COMPONENT = "kong";
/** Label value of app.kubernetes.io/component on the migration Jobs. */
export const KONG_MIGRATIONS_COMPONENT = "kong-migrations";
/** The uid of the `kong` user in Kong's images, which have no numeric USER (runAsNonRoot needs one). */
const KONG_UID = 1000;

/** Names of a managed Kong's objects; all fit 63 characters for a portal name of at most 51. */
export function managedKongNames(portal: ApiPortal) {
  return {
    deployment: childName(portal, "kong"),
    proxyService: childName(portal, "kong-proxy"),
    adminService: childName(portal, "kong-admin"),
    networkPolicy: childName(portal, "kong-admin"),
    databaseSecret: childName(portal, "kong-database"),
    migrateJob: childName(portal, "kong-migrate"),
    finishJob: childName(portal, "kong-finish"),
  };
}

/** The Admin API of the portal's managed Kong, through its Service and cluster DNS. */
export function managedAdminUrl(portal: ApiPortal): string {
  return `http://${managedKongNames(portal).adminService}.${portal.metadata.namespace}.svc:${KONG_ADMIN_PORT}`;
}

/** The Admin API of the portal's gateway: the external Kong's, or the managed Kong's; none without one. */
export function gatewayAdminUrl(portal: ApiPortal): string | undefined {
  switch (portal.spec.gateway.mode ?? "None") {
    case "External":
      return portal.spec.gateway.adminUrl;
    case "Managed":
      return managedAdminUrl(portal);
    default:
      return undefined;
  }
}

/** The image a managed Kong runs. */
export function kongImage(portal: ApiPortal): string {
  return portal.spec.gateway.managed?.image ?? DEFAULT_KONG_IMAGE;
}

/**
 * Kong's database settings (KONG_PG_*) from a Postgres connection string, or why it cannot be used. The URL's
 * sslmode maps onto pg_ssl (require and stronger) and pg_ssl_verify (verify-ca, verify-full).
 */
export function kongDatabaseSettings(
  raw: string,
): { settings: Record<string, string> } | { problem: Observation } {
  const invalid = (why: string): { problem: Observation } => ({
    problem: {
      status: "False",
      reason: Reason.InvalidDatabaseUrl,
      message: `The managed Kong's database URL ${why}; write it as postgres://user:password@host:5432/kong`,
    },
  });
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return invalid("is not a URL");
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:")
    return invalid(`has the scheme ${url.protocol.replace(/:$/, "")}, not postgres`);
  if (!url.hostname) return invalid("names no host");
  if (!url.username) return invalid("names no user");
  const sslmode = url.searchParams.get("sslmode") ?? "disable";
  const ssl = ["require", "verify-ca", "verify-full"].includes(sslmode);
  const verify = sslmode === "verify-ca" || sslmode === "verify-full";
  return {
    settings: {
      KONG_PG_HOST: url.hostname.replace(/^\[(.*)\]$/, "$1"),
      KONG_PG_PORT: url.port || "5432",
      KONG_PG_USER: decodeURIComponent(url.username),
      KONG_PG_PASSWORD: decodeURIComponent(url.password),
      KONG_PG_DATABASE: decodeURIComponent(url.pathname.replace(/^\//, "")) || "kong",
      KONG_PG_SSL: ssl ? "on" : "off",
      KONG_PG_SSL_VERIFY: verify ? "on" : "off",
      ...(verify ? { KONG_LUA_SSL_TRUSTED_CERTIFICATE: "system" } : {}),
    },
  };
}

/** The Secret with Kong's database settings; Kong's pods and Jobs take it as environment variables. */
export function renderKongDatabaseSecret(
  portal: ApiPortal,
  settings: Record<string, string>,
): V1Secret & KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: childMetadata(portal, managedKongNames(portal).databaseSecret, KONG_COMPONENT),
    type: "Opaque",
    data: Object.fromEntries(
      Object.entries(settings).map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
    ),
  };
}

/**
 * The hash of what Kong runs with: image and database settings. A change runs the migrations again before
 * the Deployment rolls (a new database is bootstrapped; a new image migrated up, then finished; a new
 * password reaches the pods). Keyed (HMAC-SHA256 with a key only the portal's Secrets hold), because it
 * covers the database password and ends up in annotations anyone who reads Jobs or pods can see.
 */
export function kongHash(portal: ApiPortal, settings: Record<string, string>, key: Buffer): string {
  return createHmac("sha256", key)
    .update(JSON.stringify({ image: kongImage(portal), settings }))
    .digest("hex")
    .slice(0, 16);
}

const defaultResources = { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } };

/** Environment of every Kong container besides the KONG_PG_* settings from the Secret. */
const KONG_ENV: V1EnvVar[] = [
  { name: "KONG_DATABASE", value: "postgres" },
  // The root file system is read-only: nginx's prefix and temporary files go to emptyDir volumes.
  { name: "KONG_PREFIX", value: "/kong_prefix" },
  { name: "KONG_PROXY_LISTEN", value: `0.0.0.0:${KONG_PROXY_CONTAINER_PORT}` },
  { name: "KONG_ADMIN_LISTEN", value: `0.0.0.0:${KONG_ADMIN_PORT}` },
  { name: "KONG_STATUS_LISTEN", value: `0.0.0.0:${KONG_STATUS_PORT}` },
  { name: "KONG_ADMIN_GUI_LISTEN", value: "off" },
  { name: "KONG_PROXY_ACCESS_LOG", value: "/dev/stdout" },
  { name: "KONG_ADMIN_ACCESS_LOG", value: "/dev/stdout" },
  { name: "KONG_PROXY_ERROR_LOG", value: "/dev/stderr" },
  { name: "KONG_ADMIN_ERROR_LOG", value: "/dev/stderr" },
  { name: "KONG_ANONYMOUS_REPORTS", value: "off" },
];

/** The pod spec Kong's Deployment and Jobs share: the restricted Pod Security Standard, KONG_* settings. */
function kongPod(
  portal: ApiPortal,
  containers: V1Container[],
  initContainers: V1Container[] = [],
): V1PodSpec {
  const names = managedKongNames(portal);
  const container = (c: V1Container): V1Container => ({
    ...c,
    image: kongImage(portal),
    env: KONG_ENV,
    envFrom: [{ secretRef: { name: names.databaseSecret } }],
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    },
    volumeMounts: [
      { name: "kong-prefix", mountPath: "/kong_prefix" },
      { name: "tmp", mountPath: "/tmp" },
    ],
  });
  return {
    automountServiceAccountToken: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: KONG_UID,
      runAsGroup: KONG_UID,
      fsGroup: KONG_UID,
      seccompProfile: { type: "RuntimeDefault" },
    },
    ...(initContainers.length > 0 ? { initContainers: initContainers.map(container) } : {}),
    containers: containers.map(container),
    volumes: [
      { name: "kong-prefix", emptyDir: { sizeLimit: "256Mi" } },
      { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
    ],
  };
}

/** Kong's Deployment: proxy, Admin API and status listeners; readiness from /status/ready. */
export function renderKongDeployment(portal: ApiPortal, hash: string): V1Deployment & KubeObject {
  const names = managedKongNames(portal);
  const labels = componentLabels(portal, KONG_COMPONENT);
  const managed = portal.spec.gateway.managed;
  const pod = kongPod(portal, [
    {
      name: "kong",
      ports: [
        { name: "proxy", containerPort: KONG_PROXY_CONTAINER_PORT, protocol: "TCP" },
        { name: "admin", containerPort: KONG_ADMIN_PORT, protocol: "TCP" },
        { name: "status", containerPort: KONG_STATUS_PORT, protocol: "TCP" },
      ],
      resources: {
        requests: managed?.resources?.requests ?? defaultResources.requests,
        limits: managed?.resources?.limits ?? defaultResources.limits,
      },
      readinessProbe: {
        httpGet: { path: "/status/ready", port: "status" },
        periodSeconds: 5,
        failureThreshold: 3,
      },
      livenessProbe: { httpGet: { path: "/status", port: "status" }, periodSeconds: 10, failureThreshold: 6 },
    },
  ]);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: childMetadata(portal, names.deployment, KONG_COMPONENT),
    spec: {
      replicas: managed?.replicas ?? 2,
      selector: { matchLabels: labels },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: { metadata: { labels, annotations: { [KONG_HASH_ANNOTATION]: hash } }, spec: pod },
    },
  };
}

/** A migration Job: `kong migrations bootstrap` then `up` (migrate), or `finish`. */
export function renderMigrationJob(
  portal: ApiPortal,
  step: "migrate" | "finish",
  hash: string,
): V1Job & KubeObject {
  const names = managedKongNames(portal);
  const labels = componentLabels(portal, KONG_MIGRATIONS_COMPONENT);
  const run = (command: string): V1Container => ({
    name: command,
    args: ["kong", "migrations", command],
    resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } },
  });
  // Bootstrap is a no-op on a bootstrapped database ("Database already bootstrapped", exit 0).
  const pod =
    step === "migrate" ? kongPod(portal, [run("up")], [run("bootstrap")]) : kongPod(portal, [run("finish")]);
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      ...childMetadata(
        portal,
        step === "migrate" ? names.migrateJob : names.finishJob,
        KONG_MIGRATIONS_COMPONENT,
      ),
      annotations: { [KONG_HASH_ANNOTATION]: hash },
    },
    spec: {
      backoffLimit: 4,
      template: {
        metadata: { labels, annotations: { [KONG_HASH_ANNOTATION]: hash } },
        spec: { ...pod, restartPolicy: "Never" },
      },
    },
  };
}

/** The proxy Service (port 80, for the ingress and in-cluster clients) and the Admin API Service (8001). */
export function renderKongServices(portal: ApiPortal): Array<V1Service & KubeObject> {
  const names = managedKongNames(portal);
  const selector = componentLabels(portal, KONG_COMPONENT);
  const service = (name: string, port: number, target: string): V1Service & KubeObject => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: childMetadata(portal, name, KONG_COMPONENT),
    spec: {
      type: "ClusterIP",
      selector,
      ports: [{ name: target, port, targetPort: target, protocol: "TCP" }],
    },
  });
  return [
    service(names.proxyService, KONG_PROXY_PORT, "proxy"),
    service(names.adminService, KONG_ADMIN_PORT, "admin"),
  ];
}

/**
 * A networking.k8s.io/v1 NetworkPolicy as sent to the apiserver (client-node's model names `from` `_from`, and
 * objects are written as plain JSON here).
 */
export interface NetworkPolicy extends KubeObject {
  spec: {
    podSelector: V1LabelSelector;
    policyTypes: string[];
    ingress: Array<{
      from?: Array<{ namespaceSelector?: V1LabelSelector; podSelector?: V1LabelSelector }>;
      ports: Array<{ protocol: string; port: number }>;
    }>;
  };
}

/**
 * Who may reach Kong's pods: the proxy and status ports from anywhere; the Admin API only from the portal's
 * namespace and the operator's (which configures Kong through it). Kong OSS has no Admin API authentication,
 * so this is what keeps it closed; it needs a network plugin that enforces NetworkPolicies.
 */
export function renderKongNetworkPolicy(portal: ApiPortal, operatorNamespace: string): NetworkPolicy {
  const namespaces = [...new Set([portal.metadata.namespace ?? "", operatorNamespace])].sort();
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: childMetadata(portal, managedKongNames(portal).networkPolicy, KONG_COMPONENT),
    spec: {
      podSelector: { matchLabels: componentLabels(portal, KONG_COMPONENT) },
      policyTypes: ["Ingress"],
      ingress: [
        {
          ports: [
            { protocol: "TCP", port: KONG_PROXY_CONTAINER_PORT },
            { protocol: "TCP", port: KONG_STATUS_PORT },
          ],
        },
        {
          from: namespaces.map((ns) => ({
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } },
          })),
          ports: [{ protocol: "TCP", port: KONG_ADMIN_PORT }],
        },
      ],
    },
  };
}

/** Where a migration Job stands for the wanted hash. */
export type JobState = "absent" | "stale" | "running" | "complete" | "failed";

/** The state of a migration Job: stale when it was made for another image or database. */
export function jobState(job: V1Job | undefined, hash: string): JobState {
  if (!job) return "absent";
  if (job.metadata?.annotations?.[KONG_HASH_ANNOTATION] !== hash) return "stale";
  const conditions = job.status?.conditions ?? [];
  if (conditions.some((c) => c.type === "Complete" && c.status === "True")) return "complete";
  if (conditions.some((c) => c.type === "Failed" && c.status === "True")) return "failed";
  return "running";
}

/** Whether Kong's Deployment runs the wanted hash on all its replicas. */
export function kongRolledOut(deployment: V1Deployment | undefined, hash: string): boolean {
  if (!deployment) return false;
  const wanted = deployment.spec?.replicas ?? 1;
  const s = deployment.status ?? {};
  return (
    deployment.spec?.template?.metadata?.annotations?.[KONG_HASH_ANNOTATION] === hash &&
    (s.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0) &&
    (s.updatedReplicas ?? 0) >= wanted &&
    (s.availableReplicas ?? 0) >= wanted
  );
}

/** What the managed Kong's objects are now, as the cache holds them. */
export interface KongObserved {
  migrateJob?: V1Job;
  finishJob?: V1Job;
  deployment?: V1Deployment;
}

/** What to do next, and how the rollout stands. */
export interface KongRollout {
  /** Jobs made for another image or database: deleted before they run again. */
  deleteJobs: string[];
  /** Jobs to create (or keep). */
  jobs: Array<V1Job & KubeObject>;
  /** Whether Kong's Deployment is applied: only once the migrations for its image and database ran. */
  applyDeployment: boolean;
  /** A failed migration Job, for GatewayReady=False. */
  failed?: Observation;
  /** True when the Deployment runs the wanted image and database and `finish` is done. */
  done: boolean;
  /** Where the rollout stands, for the messages of GatewayReady. */
  progress: string;
}

/** The next step of the rollout, from the Jobs and the Deployment the cache holds. Pure. */
export function planKongRollout(portal: ApiPortal, hash: string, observed: KongObserved): KongRollout {
  const names = managedKongNames(portal);
  const image = kongImage(portal);
  const failure = (job: string, command: string): Observation => ({
    status: "False",
    reason: Reason.KongMigrationFailed,
    message: `Job ${job} (kong migrations ${command}) failed; see \`kubectl logs -n ${portal.metadata.namespace} job/${job} --all-containers\`, fix the cause (database reachable, credentials, image), then delete the Job to run it again`,
  });
  const migrate = jobState(observed.migrateJob, hash);
  const base = {
    deleteJobs: [] as string[],
    jobs: [] as Array<V1Job & KubeObject>,
    applyDeployment: false,
    done: false,
  };
  if (migrate === "stale")
    return {
      ...base,
      deleteJobs: [names.migrateJob],
      progress: `replacing Job ${names.migrateJob} for ${image}`,
    };
  if (migrate !== "complete") {
    const jobs = [renderMigrationJob(portal, "migrate", hash)];
    if (migrate === "failed")
      return { ...base, jobs, failed: failure(names.migrateJob, "bootstrap/up"), progress: "" };
    return {
      ...base,
      jobs,
      progress: `running kong migrations bootstrap and up with ${image} (Job ${names.migrateJob})`,
    };
  }
  const migrated = { ...base, jobs: [renderMigrationJob(portal, "migrate", hash)], applyDeployment: true };
  if (!kongRolledOut(observed.deployment, hash)) {
    const d = observed.deployment;
    const counts = d ? ` (${d.status?.updatedReplicas ?? 0}/${d.spec?.replicas ?? 0} updated)` : "";
    return { ...migrated, progress: `rolling out ${image}${counts}` };
  }
  const finish = jobState(observed.finishJob, hash);
  if (finish === "stale")
    return {
      ...migrated,
      deleteJobs: [names.finishJob],
      progress: `replacing Job ${names.finishJob} for ${image}`,
    };
  const jobs = [...migrated.jobs, renderMigrationJob(portal, "finish", hash)];
  if (finish === "failed")
    return { ...migrated, jobs, failed: failure(names.finishJob, "finish"), progress: "" };
  if (finish !== "complete")
    return { ...migrated, jobs, progress: `running kong migrations finish (Job ${names.finishJob})` };
  return { ...migrated, jobs, done: true, progress: `${image} rolled out` };
}
