/**
 * Maps events of owned objects (Deployments, Services, … a controller creates) to the key of the object
 * that owns them, like controller-runtime's EnqueueRequestForOwner with OnlyControllerOwner.
 */
import type { GroupVersionKind, KubeObject, ObjectKey } from "./types.ts";

/** The group of an apiVersion: `apps` for `apps/v1`, `""` for `v1`. */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

/**
 * The key of the object's controller owner if that owner is of the given kind, else undefined. Compares
 * group and kind but not version, so ownerReferences written under an older API version still map (as in
 * controller-runtime). The owner is looked up in the object's namespace: Kubernetes does not allow owners in
 * another namespace, and an owner of a cluster-scoped object is cluster-scoped.
 */
export function controllerOwnerKey(
  obj: KubeObject,
  owner: Pick<GroupVersionKind, "group" | "kind">,
): ObjectKey | undefined {
  const ref = obj.metadata.ownerReferences?.find(
    (r) => r.controller === true && r.kind === owner.kind && groupOf(r.apiVersion) === owner.group,
  );
  return ref ? { namespace: obj.metadata.namespace ?? "", name: ref.name } : undefined;
}

/** The ownerReference that makes `owner` the controller of the objects it creates (for the garbage collector). */
export function controllerReference(owner: KubeObject): {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: true;
  blockOwnerDeletion: true;
} {
  const { apiVersion, kind } = owner;
  const { name, uid } = owner.metadata;
  if (!apiVersion || !kind || !name || !uid) {
    throw new TypeError(
      "An owner needs apiVersion, kind, metadata.name and metadata.uid (read it from the apiserver)",
    );
  }
  return { apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true };
}
