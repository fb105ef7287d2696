/**
 * Admission of ApiPortals: one portal per namespace. The operator also refuses a second portal (Ready=False,
 * reason DuplicatePortal), so this webhook only makes the refusal immediate; its failure policy is Ignore.
 */
import type { ApiPortal } from "../api/v1alpha1/index.ts";
import type { Operation, Verdict } from "./admission.ts";
import { alive, type NamespaceView } from "./view.ts";

/** What exists around an ApiPortal. */
export interface ApiPortalFacts {
  portals: ApiPortal[];
}

/** Reads the facts the rules need. */
export async function apiPortalFacts(view: NamespaceView): Promise<ApiPortalFacts> {
  return { portals: await view.portals() };
}

/** Refuses a second ApiPortal in a namespace; updates of an existing portal pass. Pure. */
export function validateApiPortal(operation: Operation, portal: ApiPortal, facts: ApiPortalFacts): Verdict {
  if (operation !== "CREATE") return { denials: [], warnings: [] };
  const other = facts.portals.find((p) => p.metadata.name !== portal.metadata.name && alive(p));
  if (!other) return { denials: [], warnings: [] };
  return {
    denials: [
      `ApiPortal ${other.metadata.name} already serves namespace ${portal.metadata.namespace}; there is one portal per namespace, so create this one in another namespace`,
    ],
    warnings: [],
  };
}
