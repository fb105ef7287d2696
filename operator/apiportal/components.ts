/**
 * The desired Deployments, Services and ConfigMaps of a portal's components, as pure functions of the
 * ApiPortal. Each component's ConfigMap holds only what that component reads, and its Deployment's pod
 * template carries a hash of that config, so a spec change rolls exactly the components it concerns.
 */
import { createHash } from "node:crypto";
import type {
  V1ConfigMap,
  V1Deployment,
  V1RoleBinding,
  V1Service,
  V1ServiceAccount,
} from "@kubernetes/client-node";
import type { ApiPortal, ComponentSpec } from "../../api/v1alpha1/index.ts";

/**
 * The portal's components: name, CLI command, port, and whether it talks to the Kubernetes API (then it runs
 * as a ServiceAccount of its own, bound in the portal's namespace to the ClusterRole the chart ships for it).
 */
export const COMPONENTS = [
  { name: "portal-ui", port: 3000, specKey: "portalUi", secrets: ["session"], kubeAccess: false },
  { name: "portal-api", port: 3001, specKey: "portalApi", secrets: ["session"], kubeAccess: true },
  {
    name: "auth-server",
    port: 3010,
    specKey: "authServer",
    secrets: ["session", "signing"],
    kubeAccess: true,
  },
] as const;

/** One of the portal's components. */
export type Component = (typeof COMPONENTS)[number];
/** A component's name. */
export type ComponentName = Component["name"];

/** Annotation on pod templates carrying the hash of the component's configuration. */
export const CONFIG_HASH_ANNOTATION = "wicked.dev/config-hash";
/** Key of the component's configuration in its ConfigMap. */
export const CONFIG_KEY = "config.json";

/** What rendering needs besides the ApiPortal. */
export interface RenderOptions {
  /** Image used when the ApiPortal does not name one. */
  defaultImage: string;
  /** The portal's generated Secrets (see secrets.ts): name, and a hash of the data so that rotation rolls. */
  secrets: Record<GeneratedSecret, { name: string; hash: string }>;
  /** The ClusterRole each component with Kubernetes access is bound to (the chart's `<release>-<component>`). */
  clusterRoles: ComponentClusterRoles;
}

/** ClusterRole names of the components that talk to the Kubernetes API. */
export type ComponentClusterRoles = Record<"portal-api" | "auth-server", string>;

/** The generated Secrets: session keys (UI, API, auth server) and token signing keys (auth server only). */
export type GeneratedSecret = "session" | "signing";

/** The children of one component. */
export interface ComponentObjects {
  component: ComponentName;
  configMap: V1ConfigMap;
  deployment: V1Deployment;
  service: V1Service;
  /** For a component with Kubernetes access: its ServiceAccount and the RoleBinding of its ClusterRole. */
  serviceAccount?: V1ServiceAccount;
  roleBinding?: V1RoleBinding;
}

/** Name of a child object of a portal. */
export function childName(portal: ApiPortal, component: string): string {
  return `${portal.metadata.name}-${component}`;
}

/** Labels of a component's objects; the selector uses the same ones. */
export function componentLabels(portal: ApiPortal, component: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": "wicked",
    "app.kubernetes.io/instance": portal.metadata.name ?? "",
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/managed-by": "wicked-operator",
  };
}

/** The URLs the portal is served under, with the defaults of PortalUrls applied. */
export function portalUrls(portal: ApiPortal): {
  portal: string;
  api: string;
  auth: string;
  gateway: string;
} {
  const base = portal.spec.urls.portal.replace(/\/+$/, "");
  return {
    portal: base,
    api: portal.spec.urls.api ?? `${base}/api`,
    auth: portal.spec.urls.auth ?? `${base}/auth`,
    gateway: portal.spec.urls.gateway,
  };
}

/** The configuration each component reads, derived from the spec. Pure and stable in key order. */
export function componentConfig(portal: ApiPortal, component: ComponentName): Record<string, unknown> {
  const spec = portal.spec;
  const urls = portalUrls(portal);
  const groups = {
    admin: spec.groups?.admin ?? "admin",
    approver: spec.groups?.approver ?? "approver",
    mappings: spec.groups?.mappings ?? [],
  };
  const local = {
    enabled: spec.login?.local?.enabled ?? true,
    allowSignup: spec.login?.local?.allowSignup ?? true,
    passwordMinLength: spec.login?.local?.passwordMinLength ?? 12,
  };
  const providers = spec.login?.oidc ?? [];
  const base = {
    portal: { namespace: portal.metadata.namespace, name: portal.metadata.name },
    displayName: spec.displayName,
    urls,
  };
  switch (component) {
    case "portal-ui":
      return {
        ...base,
        branding: spec.branding ?? {},
        contentPages: spec.contentPages ?? [],
        login: {
          local: { enabled: local.enabled, allowSignup: local.allowSignup },
          providers: providers.map((p) => ({ name: p.name, displayName: p.displayName })),
        },
      };
    case "portal-api":
      return { ...base, groups, login: { local }, mail: { enabled: spec.mail !== undefined } };
    case "auth-server":
      return {
        ...base,
        groups,
        login: {
          local,
          providers: providers.map((p) => ({
            name: p.name,
            displayName: p.displayName,
            issuer: p.issuer,
            clientId: p.clientId,
            clientSecretRef: p.clientSecretRef,
            scopes: p.scopes ?? ["openid", "email", "profile"],
            groupsClaim: p.groupsClaim ?? null,
          })),
        },
      };
  }
}

/** A short, stable hash of a value, for pod template annotations. */
export function hashOf(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);
}

function ownerReference(portal: ApiPortal) {
  return {
    apiVersion: portal.apiVersion,
    kind: portal.kind,
    name: portal.metadata.name ?? "",
    uid: portal.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Metadata of a child object: name, namespace, labels and the controller owner reference. */
export function childMetadata(portal: ApiPortal, name: string, component: string) {
  return {
    name,
    namespace: portal.metadata.namespace,
    labels: componentLabels(portal, component),
    ownerReferences: [ownerReference(portal)],
  };
}

const defaultResources = { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } };

/** Renders a component's ConfigMap, Deployment and Service. */
export function renderComponent(
  portal: ApiPortal,
  component: Component,
  options: RenderOptions,
): ComponentObjects {
  const name = childName(portal, component.name);
  const settings: ComponentSpec = portal.spec.components?.[component.specKey] ?? {};
  const config = `${JSON.stringify(componentConfig(portal, component.name), null, 2)}\n`;
  const labels = componentLabels(portal, component.name);
  const database = portal.spec.database.urlSecretRef;
  const secrets = component.secrets.map((s) => ({ kind: s, ...options.secrets[s] }));
  const configHash = hashOf({ config, secrets: secrets.map((s) => s.hash) });

  const configMap: V1ConfigMap = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: childMetadata(portal, name, component.name),
    data: { [CONFIG_KEY]: config },
  };
  const deployment: V1Deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: childMetadata(portal, name, component.name),
    spec: {
      replicas: settings.replicas ?? 1,
      selector: { matchLabels: labels },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels, annotations: { [CONFIG_HASH_ANNOTATION]: configHash } },
        spec: {
          ...(component.kubeAccess
            ? { serviceAccountName: name, automountServiceAccountToken: true }
            : { automountServiceAccountToken: false }),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            fsGroup: 10001,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: component.name,
              image: portal.spec.components?.image ?? options.defaultImage,
              args: [component.name],
              ports: [{ name: "http", containerPort: component.port, protocol: "TCP" }],
              env: [
                { name: "WICKED_CONFIG", value: `/etc/wicked/${CONFIG_KEY}` },
                { name: "PORT", value: String(component.port) },
                {
                  name: "DATABASE_URL",
                  valueFrom: { secretKeyRef: { name: database.name, key: database.key } },
                },
                { name: "WICKED_SECRETS_DIR", value: "/etc/wicked/secrets" },
              ],
              resources: {
                requests: settings.resources?.requests ?? defaultResources.requests,
                limits: settings.resources?.limits ?? defaultResources.limits,
              },
              readinessProbe: {
                httpGet: { path: "/readyz", port: "http" },
                periodSeconds: 5,
                failureThreshold: 3,
              },
              livenessProbe: {
                httpGet: { path: "/healthz", port: "http" },
                periodSeconds: 10,
                failureThreshold: 6,
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [
                { name: "config", mountPath: "/etc/wicked", readOnly: true },
                ...secrets.map((s) => ({
                  name: `${s.kind}-keys`,
                  mountPath: `/etc/wicked/secrets/${s.kind}`,
                  readOnly: true,
                })),
                { name: "tmp", mountPath: "/tmp" },
              ],
            },
          ],
          volumes: [
            { name: "config", configMap: { name } },
            ...secrets.map((s) => ({ name: `${s.kind}-keys`, secret: { secretName: s.name } })),
            { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
          ],
        },
      },
    },
  };
  const service: V1Service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: childMetadata(portal, name, component.name),
    spec: {
      type: "ClusterIP",
      selector: labels,
      ports: [{ name: "http", port: component.port, targetPort: "http", protocol: "TCP" }],
    },
  };
  return {
    component: component.name,
    configMap,
    deployment,
    service,
    ...(component.kubeAccess
      ? renderAccess(portal, component.name, options.clusterRoles[component.name])
      : {}),
  };
}

/** A component's ServiceAccount, and the RoleBinding that grants it its ClusterRole in the portal's namespace. */
function renderAccess(
  portal: ApiPortal,
  component: keyof ComponentClusterRoles,
  clusterRole: string,
): Pick<ComponentObjects, "serviceAccount" | "roleBinding"> {
  const name = childName(portal, component);
  return {
    serviceAccount: {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: childMetadata(portal, name, component),
      automountServiceAccountToken: false,
    },
    roleBinding: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: childMetadata(portal, name, component),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole },
      subjects: [{ kind: "ServiceAccount", name, namespace: portal.metadata.namespace }],
    },
  };
}

/** Renders every component of a portal. */
export function renderComponents(portal: ApiPortal, options: RenderOptions): ComponentObjects[] {
  return COMPONENTS.map((c) => renderComponent(portal, c, options));
}
