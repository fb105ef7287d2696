/**
 * The portal API's view of Kubernetes: the wicked resources, Secrets and ConfigMaps of the portal's
 * namespace, and nothing else. A small interface, so routes do not depend on @kubernetes/client-node and
 * the RBAC the component needs is visible in one place: create/get/list/patch/delete on apiclients and
 * subscriptions, get on secrets and configmaps.
 */
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1ObjectMeta,
} from "@kubernetes/client-node";
import { GROUP, VERSION } from "../api/v1alpha1/index.ts";

/** The wicked kinds the portal API writes. */
export type WickedPlural = "apiclients" | "subscriptions";

/** A Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    generation?: number;
  };
  [field: string]: unknown;
}

/** A Secret as the portal API reads it. */
export interface SecretView {
  metadata: V1ObjectMeta;
  /** Decoded values. */
  data: Record<string, string>;
}

/** What the portal API does in its namespace. */
export interface PortalKube {
  /** The namespace of the portal; every call is scoped to it. */
  readonly namespace: string;
  /** Creates a resource; throws KubeError (409 when the name is taken). */
  create<T extends object>(plural: WickedPlural, body: T): Promise<T>;
  /** Reads a resource; undefined when it does not exist. */
  get<T extends object>(plural: WickedPlural, name: string): Promise<T | undefined>;
  /** Lists resources, optionally by label selector. */
  list<T extends object>(plural: WickedPlural, labelSelector?: string): Promise<T[]>;
  /** Applies a JSON merge patch (RFC 7386) to the spec or metadata. */
  mergePatch<T extends object>(plural: WickedPlural, name: string, patch: object): Promise<T>;
  /** Deletes a resource; false when it did not exist. */
  delete(plural: WickedPlural, name: string): Promise<boolean>;
  /** A Secret's decoded data with its metadata; undefined when it does not exist. */
  readSecret(name: string): Promise<SecretView | undefined>;
  /** The data of a ConfigMap; undefined when it does not exist. */
  readConfigMap(name: string): Promise<Record<string, string> | undefined>;
}

/** The apiserver refused a request or could not be reached. */
export class KubeError extends Error {
  override readonly name = "KubeError";
  constructor(
    /** HTTP status from the apiserver; 0 when there was no answer. */
    readonly status: number,
    /** The apiserver's reason (`AlreadyExists`, `Invalid`, `Forbidden`, ...). */
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The PortalKube of a namespace, over client-node with the given KubeConfig's credentials. */
export function portalKube(kubeConfig: KubeConfig, namespace: string): PortalKube {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const ref = (plural: WickedPlural) => ({ group: GROUP, version: VERSION, namespace, plural });
  return {
    namespace,
    async create<T extends object>(plural: WickedPlural, body: T): Promise<T> {
      return (await call(() => custom.createNamespacedCustomObject({ ...ref(plural), body }))) as T;
    },
    async get<T extends object>(plural: WickedPlural, name: string): Promise<T | undefined> {
      return (await orUndefined(() => custom.getNamespacedCustomObject({ ...ref(plural), name }))) as
        | T
        | undefined;
    },
    async list<T extends object>(plural: WickedPlural, labelSelector?: string): Promise<T[]> {
      const list = (await call(() =>
        custom.listNamespacedCustomObject({ ...ref(plural), labelSelector }),
      )) as { items?: T[] };
      return list.items ?? [];
    },
    async mergePatch<T extends object>(plural: WickedPlural, name: string, patch: object): Promise<T> {
      return (await call(() =>
        custom.patchNamespacedCustomObject(
          { ...ref(plural), name, body: patch },
          setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
        ),
      )) as T;
    },
    async delete(plural: WickedPlural, name: string): Promise<boolean> {
      const gone = await orUndefined(() =>
        custom.deleteNamespacedCustomObject({ ...ref(plural), name, propagationPolicy: "Background" }),
      );
      return gone !== undefined;
    },
    async readSecret(name: string): Promise<SecretView | undefined> {
      const secret = await orUndefined(() => core.readNamespacedSecret({ name, namespace }));
      if (!secret) return undefined;
      const data = Object.fromEntries(
        Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
      );
      return { metadata: secret.metadata ?? {}, data };
    },
    async readConfigMap(name: string): Promise<Record<string, string> | undefined> {
      const map = await orUndefined(() => core.readNamespacedConfigMap({ name, namespace }));
      return map ? { ...(map.data ?? {}) } : undefined;
    },
  };
}

async function call<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toKubeError(err);
  }
}

async function orUndefined<T>(work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (err) {
    const error = toKubeError(err);
    if (error.status === 404) return undefined;
    throw error;
  }
}

/** Turns client-node's ApiException (or a transport failure) into a KubeError with the apiserver's message. */
export function toKubeError(err: unknown): KubeError {
  if (err instanceof KubeError) return err;
  if (err instanceof ApiException) {
    const status = parseStatus(err.body);
    return new KubeError(
      err.code,
      status.reason ?? "Unknown",
      status.message ?? `The Kubernetes API answered ${err.code}.`,
      { cause: err },
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new KubeError(0, "Unreachable", `Could not reach the Kubernetes API: ${message}`, { cause: err });
}

function parseStatus(body: unknown): { reason?: string; message?: string } {
  let value = body;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return {};
    }
  }
  if (typeof value !== "object" || value === null) return {};
  const reason = Reflect.get(value, "reason");
  const message = Reflect.get(value, "message");
  return {
    reason: typeof reason === "string" ? reason : undefined,
    message: typeof message === "string" ? message : undefined,
  };
}
