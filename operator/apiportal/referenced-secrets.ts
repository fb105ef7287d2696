/**
 * The Secrets an ApiPortal points at: its database URL, Kong's admin token or a managed Kong's database URL,
 * SMTP and chat webhooks. They carry no label the operator's cache selects Secrets by, so the cache watches
 * each by name for as long as a portal points at it (ManagerOptions.cacheReferences).
 */
import type { ApiPortal } from "../../api/v1alpha1/index.ts";

/** Names of the Secrets in the portal's namespace that the operator reads for it. Pure. */
export function secretsReferencedBy(portal: ApiPortal): string[] {
  const { database, gateway, mail, chat } = portal.spec;
  const names = [
    database.urlSecretRef.name,
    gateway.adminTokenSecretRef?.name,
    gateway.managed?.databaseUrlSecretRef.name,
    mail?.smtpSecretRef.name,
    ...(chat?.targets ?? []).map((t) => t.webhookUrlSecretRef.name),
  ];
  return [...new Set(names.filter((n): n is string => n !== undefined))];
}
