/**
 * Probes the portal's Kong Admin API for the GatewayReady condition.
 */
import type { ApiPortal } from "../../api/v1alpha1/index.ts";
import { gatewayAdminUrl } from "./managed-kong.ts";
import { type Observation, Reason } from "./status.ts";

/** Asks Kong's Admin API (the external one, or the managed Kong's Service) for its node information; never throws. */
export async function probeGateway(
  portal: ApiPortal,
  adminToken: string | undefined,
  timeoutMs = 5_000,
): Promise<Observation> {
  const adminUrl = gatewayAdminUrl(portal);
  if (!adminUrl) {
    return {
      status: "False",
      reason: Reason.GatewayNotConfigured,
      message:
        "No gateway is configured: set spec.gateway.mode to External with adminUrl, or to Managed, to publish APIs",
    };
  }
  const url = adminUrl.replace(/\/+$/, "");
  try {
    const response = await fetch(`${url}/`, {
      headers: adminToken ? { "Kong-Admin-Token": adminToken } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) {
      return {
        status: "False",
        reason: Reason.AdminApiUnreachable,
        message: `Kong's Admin API at ${url} answered HTTP ${response.status}; check adminUrl and the admin token`,
      };
    }
    const info = (await response.json()) as { version?: string; configuration?: { database?: string } };
    if (info.configuration?.database === "off") {
      return {
        status: "False",
        reason: Reason.AdminApiUnreachable,
        message: `Kong at ${url} runs without a database (DB-less); wicked needs Kong in DB mode`,
      };
    }
    return {
      status: "True",
      reason: Reason.AdminApiReachable,
      message: `Kong ${info.version ?? "(unknown version)"} answers at ${url}`,
    };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    return {
      status: "False",
      reason: Reason.AdminApiUnreachable,
      message: `Cannot reach Kong's Admin API at ${url} (${cause}); check adminUrl and network policies`,
    };
  }
}
