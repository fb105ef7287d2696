/**
 * Types shared by the wicked.dev/v1alpha1 kinds.
 *
 * The doc comments here are the API documentation: `make crds` copies them into the CRDs' `description`
 * fields, so `kubectl explain` shows them. Validation markers (JSDoc tags such as `@pattern`, `@minimum`,
 * `@default`, `@xValidation`) become schema keywords; hack/crdgen/README.md lists them.
 */

/** The API group of every wicked resource. */
export const GROUP = "wicked.dev";
/** The version of the types in this folder. */
export const VERSION = "v1alpha1";
/** apiVersion as written in manifests. */
export const API_VERSION = `${GROUP}/${VERSION}`;

/** A 32-bit integer; the generator maps it to `type: integer, format: int32`. */
export type Int32 = number;
/** A 64-bit integer; the generator maps it to `type: integer, format: int64`. */
export type Int64 = number;

/** Standard Kubernetes object metadata; the API server validates it, so the CRD schema leaves it open. */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: Int64;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: Array<{
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
    blockOwnerDeletion?: boolean;
  }>;
}

/** A status condition, following the Kubernetes API conventions (metav1.Condition). */
export interface Condition {
  /**
   * Type of the condition in CamelCase, for example Ready.
   * @maxLength 316
   * @pattern ^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$
   */
  type: string;
  /** Status of the condition: True, False or Unknown. */
  status: "True" | "False" | "Unknown";
  /**
   * The .metadata.generation the condition was computed from; older than the object's generation means the
   * condition is out of date.
   * @minimum 0
   */
  observedGeneration?: Int64;
  /**
   * When the condition last changed from one status to another.
   * @format date-time
   */
  lastTransitionTime: string;
  /**
   * Programmatic identifier in CamelCase of the reason for the last transition.
   * @minLength 1
   * @maxLength 1024
   * @pattern ^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$
   */
  reason: string;
  /**
   * Human-readable details of the transition: what is wrong and what to do about it.
   * @maxLength 32768
   */
  message: string;
}

/** Status fields every wicked kind carries. */
export interface CommonStatus {
  /**
   * Latest observations of the object's state. `Ready` summarises the others.
   * @listType map
   * @listMapKey type
   * @maxItems 16
   */
  conditions?: Condition[];
  /**
   * The .metadata.generation the controller last acted on.
   * @minimum 0
   */
  observedGeneration?: Int64;
}

/** A reference to an object of a known kind in the same namespace. */
export interface LocalObjectReference {
  /**
   * Name of the referenced object.
   * @minLength 1
   * @maxLength 253
   * @pattern ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$
   */
  name: string;
}

/** A reference to one key of a Secret in the same namespace. */
export interface SecretKeyReference {
  /**
   * Name of the Secret.
   * @minLength 1
   * @maxLength 253
   * @pattern ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$
   */
  name: string;
  /**
   * Key inside the Secret's data.
   * @minLength 1
   * @maxLength 253
   * @pattern ^[-._a-zA-Z0-9]+$
   */
  key: string;
}

/** A reference to one key of a ConfigMap in the same namespace. */
export interface ConfigMapKeyReference {
  /**
   * Name of the ConfigMap.
   * @minLength 1
   * @maxLength 253
   * @pattern ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$
   */
  name: string;
  /**
   * Key inside the ConfigMap's data.
   * @minLength 1
   * @maxLength 253
   * @pattern ^[-._a-zA-Z0-9]+$
   */
  key: string;
}

/** An extra Kong plugin that wicked adds next to the ones it manages. */
export interface KongPluginSpec {
  /**
   * Name of a plugin enabled in the Kong the portal uses, for example `cors` or `request-transformer`.
   * Plugins wicked manages itself (key-auth, jwt, acl, rate-limiting) cannot be set here.
   * @minLength 1
   * @maxLength 64
   * @pattern ^[a-z][a-z0-9-]*$
   * @xValidation {"rule": "!(self in ['key-auth', 'jwt', 'acl', 'rate-limiting', 'oauth2'])", "message": "this plugin is managed by wicked from the Api's auth and the Plan's rate limits; remove it from plugins"}
   */
  name: string;
  /**
   * Plugin configuration, passed to Kong as is; Kong validates it and the resource's status reports Kong's
   * message when it is refused.
   * @preserveUnknownFields
   */
  config?: Record<string, unknown>;
  /**
   * Whether the plugin is active; true when unset (applied by the operator, not written into the list item).
   */
  enabled?: boolean;
}
