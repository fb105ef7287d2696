/**
 * The ApiPortal's status as a pure function of what the controller observed: the database, the gateway, the
 * component Deployments and the routing objects. Reasons are CamelCase constants; messages say what to do.
 */
import type { V1Deployment } from "@kubernetes/client-node";
import type {
  ApiPortal,
  ApiPortalStatus,
  ComponentStatus,
  ExposureStatus,
} from "../../api/v1alpha1/index.ts";
import { type Condition, setCondition } from "../../controller-runtime/conditions.ts";
import { deepEqual } from "../desired.ts";

/** Condition types of an ApiPortal. */
export const ConditionType = {
  Ready: "Ready",
  DatabaseReady: "DatabaseReady",
  GatewayReady: "GatewayReady",
  ComponentsAvailable: "ComponentsAvailable",
  Exposed: "Exposed",
} as const;

/** Reasons of the ApiPortal's conditions. */
export const Reason = {
  Migrated: "Migrated",
  SecretNotFound: "SecretNotFound",
  SecretKeyMissing: "SecretKeyMissing",
  InvalidDatabaseUrl: "InvalidDatabaseUrl",
  ConnectionFailed: "ConnectionFailed",
  AuthenticationFailed: "AuthenticationFailed",
  MigrationFailed: "MigrationFailed",
  GatewayNotConfigured: "GatewayNotConfigured",
  AdminApiReachable: "AdminApiReachable",
  AdminApiUnreachable: "AdminApiUnreachable",
  ManagedGatewayUnavailable: "ManagedGatewayUnavailable",
  KongMigrationFailed: "KongMigrationFailed",
  AllComponentsAvailable: "AllComponentsAvailable",
  ComponentsUnavailable: "ComponentsUnavailable",
  PortalReady: "PortalReady",
  NotReady: "NotReady",
  DuplicatePortal: "DuplicatePortal",
  ExposureNotConfigured: "ExposureNotConfigured",
  GatewayApiNotInstalled: "GatewayApiNotInstalled",
  UnroutableUrls: "UnroutableUrls",
  Admitted: "Admitted",
  WaitingForController: "WaitingForController",
  RouteNotAccepted: "RouteNotAccepted",
} as const;

/** An observation that became a condition: status, reason and message. */
export interface Observation {
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
}

/** Everything the status is computed from. */
export interface PortalObservations {
  database: Observation & { schemaVersion?: string };
  gateway: Observation;
  deployments: Array<{ component: string; deployment: V1Deployment | undefined }>;
  urls: NonNullable<ApiPortalStatus["urls"]>;
  /** Whether the routing controller admitted the portal's Ingress or HTTPRoutes (see exposure.ts). */
  exposed: Observation;
  /** The URLs the applied routing objects route; undefined when the portal is not exposed by the operator. */
  exposure: ExposureStatus | undefined;
}

/** Whether a Deployment has rolled out its current spec and has all replicas available. */
export function deploymentAvailable(d: V1Deployment | undefined): boolean {
  if (!d) return false;
  const wanted = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  return (
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    (s.updatedReplicas ?? 0) >= wanted &&
    (s.availableReplicas ?? 0) >= wanted
  );
}

/** The ComponentsAvailable observation and per-component status. */
export function observeComponents(deployments: PortalObservations["deployments"]): {
  observation: Observation;
  components: ComponentStatus[];
} {
  const components = deployments.map(({ component, deployment }) => ({
    name: component,
    replicas: deployment?.spec?.replicas ?? 0,
    readyReplicas: deployment?.status?.availableReplicas ?? 0,
    ...(deployment?.status?.observedGeneration !== undefined
      ? { observedGeneration: deployment.status.observedGeneration }
      : {}),
  }));
  const unavailable = deployments.filter((d) => !deploymentAvailable(d.deployment));
  const observation: Observation =
    unavailable.length === 0
      ? {
          status: "True",
          reason: Reason.AllComponentsAvailable,
          message: "All components have their replicas available",
        }
      : {
          status: "False",
          reason: Reason.ComponentsUnavailable,
          message: `Waiting for ${unavailable
            .map((u) =>
              u.deployment
                ? `${u.component} (${u.deployment.status?.availableReplicas ?? 0}/${u.deployment.spec?.replicas ?? 0} available)`
                : `${u.component} (not rolled out yet)`,
            )
            .join(", ")}; kubectl describe deployment tells why pods are not available`,
        };
  return { observation, components };
}

/**
 * Ready: the database and components work, the gateway does unless no gateway is configured yet, and an
 * exposure the spec asks for is not refused (waiting for a controller that may never report does not count).
 */
export function readiness(
  portal: ApiPortal,
  database: Observation,
  gateway: Observation,
  components: Observation,
  exposed?: Observation,
): Observation {
  const gatewayOptional = (portal.spec.gateway.mode ?? "None") === "None";
  const exposureRefused = portal.spec.exposure !== undefined && exposed?.status === "False";
  const blocking = [
    [ConditionType.DatabaseReady, database],
    [ConditionType.ComponentsAvailable, components],
    ...(gatewayOptional ? [] : [[ConditionType.GatewayReady, gateway] as const]),
    ...(exposureRefused && exposed ? [[ConditionType.Exposed, exposed] as const] : []),
  ] as const;
  const failing = blocking.filter(([, o]) => o.status !== "True");
  if (failing.length === 0) {
    const note = gatewayOptional ? "; no gateway is configured, so APIs are not published yet" : "";
    return { status: "True", reason: Reason.PortalReady, message: `The portal is ready${note}` };
  }
  return {
    status: "False",
    reason: Reason.NotReady,
    message: failing.map(([type, o]) => `${type}: ${o.message}`).join("; "),
  };
}

/** Computes the new status; `changed` is false when writing it would change nothing. */
export function computeStatus(
  portal: ApiPortal,
  obs: PortalObservations,
  now: Date,
): { status: ApiPortalStatus; changed: boolean } {
  const generation = portal.metadata.generation ?? 0;
  const old = portal.status ?? {};
  const { observation: componentsObservation, components } = observeComponents(obs.deployments);
  let conditions = (old.conditions ?? []) as Condition[];
  let changed = false;
  const set = (type: string, o: Observation) => {
    const result = setCondition(
      conditions,
      { type, status: o.status, reason: o.reason, message: o.message, observedGeneration: generation },
      now,
    );
    conditions = result.conditions;
    changed ||= result.changed;
  };
  set(ConditionType.DatabaseReady, obs.database);
  set(ConditionType.GatewayReady, obs.gateway);
  set(ConditionType.ComponentsAvailable, componentsObservation);
  set(ConditionType.Exposed, obs.exposed);
  set(ConditionType.Ready, readiness(portal, obs.database, obs.gateway, componentsObservation, obs.exposed));

  const { exposure: _previous, ...kept } = old;
  const status: ApiPortalStatus = {
    ...kept,
    conditions: conditions as ApiPortalStatus["conditions"],
    observedGeneration: generation,
    urls: obs.urls,
    components,
    ...(obs.exposure ? { exposure: obs.exposure } : {}),
  };
  const schemaVersion = obs.database.schemaVersion ?? old.schemaVersion;
  if (schemaVersion !== undefined) status.schemaVersion = schemaVersion;
  changed ||=
    old.observedGeneration !== generation ||
    !deepEqual(old.urls, status.urls) ||
    !deepEqual(old.components, components) ||
    !deepEqual(old.exposure, status.exposure) ||
    old.schemaVersion !== status.schemaVersion;
  return { status, changed };
}
