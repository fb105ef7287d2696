/**
 * Admission of Plans: nothing about a Plan is refused for what else exists (the operator holds a deletion
 * while subscriptions use it), but two things deserve a warning: a plan without rate limits lets each
 * subscriber send unlimited requests, and a plan no Api offers cannot be chosen by anyone.
 */
import type { Api, Plan } from "../api/v1alpha1/index.ts";
import { type Operation, specUnchanged, type Verdict } from "./admission.ts";
import { alive, type NamespaceView } from "./view.ts";

/** What exists around a Plan. */
export interface PlanFacts {
  apis: Api[];
}

/** Reads the facts the rules need. */
export async function planFacts(view: NamespaceView): Promise<PlanFacts> {
  return { apis: await view.apis() };
}

/** Warnings about a Plan; it is never denied. Pure. */
export function validatePlan(
  operation: Operation,
  plan: Plan,
  old: Plan | undefined,
  facts: PlanFacts,
): Verdict {
  const warnings: string[] = [];
  if (plan.metadata.deletionTimestamp || specUnchanged(operation, plan, old))
    return { denials: [], warnings };
  const name = plan.metadata.name ?? "";
  if (!plan.spec.rateLimits || Object.keys(plan.spec.rateLimits).length === 0)
    warnings.push(
      `Plan ${name} has no rate limits: every subscriber may send unlimited requests; set spec.rateLimits unless that is intended`,
    );
  if (!facts.apis.some((a) => alive(a) && (a.spec.plans ?? []).includes(name)))
    warnings.push(
      `No Api offers plan ${name} yet; add it to an Api's spec.plans so developers can choose it`,
    );
  return { denials: [], warnings };
}
