/** The kinds the operator reads and writes. */
import { GROUP, VERSION } from "../api/v1alpha1/common.types.ts";
import type { GroupVersionKind } from "../controller-runtime/types.ts";

/** wicked.dev ApiPortal. */
export const APIPORTAL: GroupVersionKind = {
  group: GROUP,
  version: VERSION,
  kind: "ApiPortal",
  plural: "apiportals",
};
/** apps/v1 Deployment. */
export const DEPLOYMENT: GroupVersionKind = {
  group: "apps",
  version: "v1",
  kind: "Deployment",
  plural: "deployments",
};
/** v1 Service. */
export const SERVICE: GroupVersionKind = { group: "", version: "v1", kind: "Service", plural: "services" };
/** v1 ConfigMap. */
export const CONFIGMAP: GroupVersionKind = {
  group: "",
  version: "v1",
  kind: "ConfigMap",
  plural: "configmaps",
};
/** v1 Secret. */
export const SECRET: GroupVersionKind = { group: "", version: "v1", kind: "Secret", plural: "secrets" };
/** v1 ServiceAccount. */
export const SERVICEACCOUNT: GroupVersionKind = {
  group: "",
  version: "v1",
  kind: "ServiceAccount",
  plural: "serviceaccounts",
};
/** rbac.authorization.k8s.io/v1 RoleBinding. */
export const ROLEBINDING: GroupVersionKind = {
  group: "rbac.authorization.k8s.io",
  version: "v1",
  kind: "RoleBinding",
  plural: "rolebindings",
};
/** batch/v1 Job: a managed Kong's database migrations. */
export const JOB: GroupVersionKind = { group: "batch", version: "v1", kind: "Job", plural: "jobs" };
/** wicked.dev Api. */
export const API: GroupVersionKind = { group: GROUP, version: VERSION, kind: "Api", plural: "apis" };
/** wicked.dev Plan. */
export const PLAN: GroupVersionKind = { group: GROUP, version: VERSION, kind: "Plan", plural: "plans" };
/** wicked.dev ApiClient. */
export const APICLIENT: GroupVersionKind = {
  group: GROUP,
  version: VERSION,
  kind: "ApiClient",
  plural: "apiclients",
};
/** wicked.dev Subscription. */
export const SUBSCRIPTION: GroupVersionKind = {
  group: GROUP,
  version: VERSION,
  kind: "Subscription",
  plural: "subscriptions",
};
/** networking.k8s.io/v1 Ingress: a portal's exposure through an ingress controller. */
export const INGRESS: GroupVersionKind = {
  group: "networking.k8s.io",
  version: "v1",
  kind: "Ingress",
  plural: "ingresses",
};
/**
 * gateway.networking.k8s.io/v1 HTTPRoute: a portal's exposure through a Gateway. Served only where the Gateway
 * API CRDs are installed; the cache treats it as empty until they are.
 */
export const HTTPROUTE: GroupVersionKind = {
  group: "gateway.networking.k8s.io",
  version: "v1",
  kind: "HTTPRoute",
  plural: "httproutes",
};
/** networking.k8s.io/v1 NetworkPolicy: who may reach a managed Kong's Admin API. */
export const NETWORKPOLICY: GroupVersionKind = {
  group: "networking.k8s.io",
  version: "v1",
  kind: "NetworkPolicy",
  plural: "networkpolicies",
};
