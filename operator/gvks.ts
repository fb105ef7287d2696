/** The kinds the operator reads and writes. */
import { GROUP, VERSION } from "../api/v1alpha1/common.types.ts";
import type { GroupVersionKind } from "./runtime/types.ts";

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
/** batch/v1 Job. */
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
