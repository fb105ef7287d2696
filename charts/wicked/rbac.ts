/**
 * What the operator needs from RBAC, derived from its code, and what the chart grants, so tests can compare
 * the two in both directions: the controllers' registrations say which kinds the informer cache lists and
 * watches; a scan of the controllers' source says which kinds they write and how; the runtime adds Events
 * and the leader-election Lease. Used by rbac.test.ts (code vs. chart) and operator-rbac.int.test.ts
 * (requests the operator really made vs. chart).
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { type CallExpression, Node, Project, SyntaxKind } from "ts-morph";
import YAML from "yaml";
import type { ControllerOptions } from "../../controller-runtime/controller.ts";
import { EVENT_GVK } from "../../controller-runtime/events.ts";
import { LEASE_GVK } from "../../controller-runtime/leaderelection.ts";
import type { GroupVersionKind } from "../../controller-runtime/types.ts";
import * as gvks from "../../operator/gvks.ts";

/** One (group, resource[/subresource], verb[, name]) an identity may use, as a comparable string. */
export type Permission = string;

/** The permission string of a request or a rule item: `group/resource:verb` or `…:verb@name`. */
export function permission(group: string, resource: string, verb: string, name?: string): Permission {
  return `${group}/${resource}:${verb}${name ? `@${name}` : ""}`;
}

/** An RBAC PolicyRule as written in a (Cluster)Role. */
export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** Every permission a list of rules grants, one string per group × resource × verb (× name). */
export function expandRules(rules: PolicyRule[]): Set<Permission> {
  const out = new Set<Permission>();
  for (const rule of rules)
    for (const group of rule.apiGroups ?? [])
      for (const resource of rule.resources ?? [])
        for (const verb of rule.verbs)
          for (const name of rule.resourceNames?.length ? rule.resourceNames : [undefined])
            out.add(permission(group, resource, verb, name));
  return out;
}

/** The chart's template of the operator's roles. */
export const OPERATOR_RBAC_TEMPLATE = "charts/wicked/templates/operator/rbac.yaml";

/**
 * The rules of the operator's two ClusterRoles read straight from the template, without helm: the rules are
 * plain YAML, so template actions (names, labels) are blanked out. The integration test checks the result
 * against helm's rendering.
 */
export function templateRoles(text = readFileSync(OPERATOR_RBAC_TEMPLATE, "utf8")): {
  operator: PolicyRule[];
  leaderElection: PolicyRule[];
} {
  const plain = text
    .split("\n")
    .filter((line) => !/^\s*\{\{.*\}\}\s*$/.test(line))
    .join("\n")
    .replace(/\{\{.*?\}\}/g, "templated");
  const roles = YAML.parseAllDocuments(plain)
    .map((d) => d.toJS() as { kind: string; rules?: PolicyRule[] } | null)
    .filter((d) => d?.kind === "ClusterRole") as Array<{ kind: string; rules?: PolicyRule[] }>;
  const isLease = (r: { rules?: PolicyRule[] }) => r.rules?.some((x) => x.resources?.includes("leases"));
  const operator = roles.find((r) => !isLease(r));
  const leaderElection = roles.find(isLease);
  if (!operator?.rules || !leaderElection?.rules)
    throw new Error(
      `${OPERATOR_RBAC_TEMPLATE} must hold the operator's ClusterRole and the leader-election ClusterRole`,
    );
  return { operator: operator.rules, leaderElection: leaderElection.rules };
}

/** What the operator's manager was created with (captured from operator/main.ts). */
export interface Registrations {
  controllers: ControllerOptions[];
  cacheKinds?: GroupVersionKind[];
  leaderElection?: { name: string };
}

/** A write (or live read) found in the controllers' source, for the report of a mismatch. */
export interface Access {
  gvk: GroupVersionKind;
  verbs: string[];
  /** file:line of the call. */
  at: string;
}

const KNOWN_GVKS: Record<string, GroupVersionKind> = Object.fromEntries(
  Object.entries(gvks).filter(([, v]) => typeof v === "object" && v !== null && "plural" in v),
) as Record<string, GroupVersionKind>;

/** Helpers that wrap client calls, with the verbs a call of them needs on the GVK in argument `arg`. */
const HELPERS: Record<string, { arg: number; verbs: string[] }> = {
  // Server-side apply: patch, and create when the object does not exist yet.
  ensure: { arg: 1, verbs: ["create", "patch"] },
  // The cache first, a live get when the cache has not seen the object.
  currentObject: { arg: 1, verbs: ["get"] },
  // Adds and removes the finalizer by merge patch.
  withFinalizer: { arg: 1, verbs: ["patch"] },
  // Deletes the owned objects of a kind the desired state no longer has (read from the cache).
  deleteOwned: { arg: 1, verbs: ["delete"] },
};

/** Client methods whose first argument is the GVK, with the verbs they need. */
const CLIENT_METHODS: Record<string, string[]> = {
  get: ["get"],
  list: ["list"],
  delete: ["delete"],
  patchMerge: ["patch"],
};

/** Files that implement the helpers above (modelled by HELPERS, not scanned). */
const HELPER_FILES = ["operator/ensure.ts", "operator/status.ts"];

/**
 * Scans the operator's source reachable from operator/main.ts (the runtime excepted: it is modelled
 * separately) for the kinds it writes or reads live. Throws on a client call whose kind it cannot tell, so a
 * new write cannot slip past the RBAC check.
 */
export function scanAccesses(entry = "operator/main.ts"): {
  accesses: Access[];
  writesStatus: boolean;
  recordsEvents: boolean;
} {
  // Follows the relative imports only: the kinds are named in wicked's own files, and parsing without the
  // type checker or node_modules keeps the scan fast.
  const project = new Project({ skipFileDependencyResolution: true });
  const root = `${process.cwd()}/`;
  const pending = [`${root}${entry}`];
  const seen = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = project.addSourceFileAtPath(file);
    for (const decl of [...source.getImportDeclarations(), ...source.getExportDeclarations()]) {
      const spec = decl.getModuleSpecifierValue();
      if (spec?.startsWith(".")) pending.push(resolve(dirname(file), spec));
    }
  }
  const files = project
    .getSourceFiles()
    .map((f) => ({ f, path: f.getFilePath().replace(root, "") }))
    .filter(
      ({ path }) =>
        path.startsWith("operator/") && !path.endsWith(".test.ts") && !HELPER_FILES.includes(path),
    );
  const accesses: Access[] = [];
  let writesStatus = false;
  let recordsEvents = false;
  const gvkOf = (call: CallExpression, index: number, at: string): GroupVersionKind => {
    const arg = call.getArguments()[index];
    const gvk = arg && Node.isIdentifier(arg) ? KNOWN_GVKS[arg.getText()] : undefined;
    if (!gvk)
      throw new Error(
        `${at}: cannot tell which kind ${call.getExpression().getText()}(…) writes; pass a GVK constant from operator/gvks.ts so the RBAC check sees it`,
      );
    return gvk;
  };
  for (const { f, path } of files) {
    for (const call of f.getDescendantsOfKind(SyntaxKind.CallExpression)) {
      const callee = call.getExpression();
      const at = `${path}:${call.getStartLineNumber()}`;
      if (Node.isIdentifier(callee)) {
        const name = callee.getText();
        const helper = HELPERS[name];
        if (helper) accesses.push({ gvk: gvkOf(call, helper.arg, at), verbs: helper.verbs, at });
        if (name === "applyOwnStatus") writesStatus = true;
        if (name === "ensure") recordsEvents = true;
        continue;
      }
      if (!Node.isPropertyAccessExpression(callee)) continue;
      const receiver = callee.getExpression().getText();
      const method = callee.getName();
      if (receiver === "ctx.recorder" && method === "event") recordsEvents = true;
      if (receiver !== "ctx.client") continue;
      if (method === "applyStatus") {
        writesStatus = true;
        continue;
      }
      const verbs = CLIENT_METHODS[method];
      if (!verbs)
        throw new Error(
          `${at}: ctx.client.${method} is not modelled by the RBAC check (charts/wicked/rbac.ts); add it`,
        );
      accesses.push({ gvk: gvkOf(call, 0, at), verbs, at });
    }
  }
  return { accesses, writesStatus, recordsEvents };
}

/**
 * The permissions the operator needs, from its registrations and its source:
 * - every kind a controller is `for`, `owns` or `watches` (and cacheKinds): list and watch, cluster-wide;
 * - each access found by scanAccesses;
 * - status writes: patch on the status subresource of every `for` kind (each wicked kind has a controller,
 *   and server-side apply of status is the only way the operator writes status);
 * - owned children carry ownerReferences with blockOwnerDeletion: update on `<for kind>/finalizers`;
 * - Events (the runtime's recorder): create, and patch for a repeated Event's series;
 * - the leader-election Lease, in the operator's own namespace: create, and get and patch of that name.
 */
export function neededPermissions(
  registrations: Registrations,
  scan = scanAccesses(),
): { cluster: Set<Permission>; leaderElection: Set<Permission> } {
  const cluster = new Set<Permission>();
  const add = (gvk: Pick<GroupVersionKind, "group" | "plural">, verbs: string[], sub?: string) => {
    for (const verb of verbs)
      cluster.add(permission(gvk.group, sub ? `${gvk.plural}/${sub}` : gvk.plural, verb));
  };
  for (const c of registrations.controllers) {
    for (const gvk of [c.for, ...(c.owns ?? []), ...(c.watches ?? []).map((w) => w.gvk)])
      add(gvk, ["list", "watch"]);
    if (scan.writesStatus) add(c.for, ["patch"], "status");
    if ((c.owns ?? []).length > 0) add(c.for, ["update"], "finalizers");
  }
  for (const gvk of registrations.cacheKinds ?? []) add(gvk, ["list", "watch"]);
  for (const a of scan.accesses) add(a.gvk, a.verbs);
  if (scan.recordsEvents) add(EVENT_GVK, ["create", "patch"]);
  const leaderElection = new Set<Permission>();
  const lease = registrations.leaderElection?.name;
  if (lease) {
    leaderElection.add(permission(LEASE_GVK.group, LEASE_GVK.plural, "create"));
    for (const verb of ["get", "patch"])
      leaderElection.add(permission(LEASE_GVK.group, LEASE_GVK.plural, verb, lease));
  }
  return { cluster, leaderElection };
}

/** What one set has that the other lacks, both ways, sorted: for assertion messages. */
export function difference(
  granted: Set<Permission>,
  needed: Set<Permission>,
): { extra: string[]; missing: string[] } {
  return {
    extra: [...granted].filter((p) => !needed.has(p)).sort(),
    missing: [...needed].filter((p) => !granted.has(p)).sort(),
  };
}
