import type { CommonStatus, Int32, ObjectMeta } from "./common.types.ts";

/**
 * ApiClient is an application of a portal user that subscribes to APIs. The portal creates one when a
 * developer registers an application; GitOps can declare them too.
 * @plural apiclients
 * @shortName wclient
 * @printColumn {"name": "Display Name", "type": "string", "jsonPath": ".spec.displayName"}
 * @printColumn {"name": "Owner", "type": "string", "jsonPath": ".spec.owner"}
 * @printColumn {"name": "Type", "type": "string", "jsonPath": ".spec.clientType"}
 * @printColumn {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}
 * @printColumn {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
 */
export interface ApiClient {
  apiVersion: "wicked.dev/v1alpha1";
  kind: "ApiClient";
  metadata: ObjectMeta;
  spec: ApiClientSpec;
  status?: ApiClientStatus;
}

/**
 * The desired state of an application.
 * @xValidation {"rule": "self.clientType != 'public' || (has(self.redirectUris) && size(self.redirectUris) > 0)", "message": "a public client needs at least one redirect URI: it can only use the authorization code flow with PKCE"}
 */
export interface ApiClientSpec {
  /**
   * Name shown in the portal.
   * @minLength 1
   * @maxLength 100
   */
  displayName: string;
  /**
   * What the application does.
   * @maxLength 2000
   */
  description?: string;
  /**
   * Email address of the portal user who owns the application.
   * @minLength 3
   * @maxLength 320
   * @pattern ^[^@\s]+@[^@\s]+\.[^@\s]+$
   */
  owner: string;
  /**
   * confidential: the application keeps a secret (a server). public: it cannot (a browser or mobile app) and
   * must use PKCE.
   * @default "confidential"
   */
  clientType?: "confidential" | "public";
  /**
   * Exact redirect URIs for the authorization code flow; https, or http on localhost.
   * @maxItems 16
   * @listType set
   * @itemsPattern ^(https://[^\s#]+|http://(localhost|127\.0\.0\.1)(:[0-9]+)?(/[^\s#]*)?)$
   * @itemsMaxLength 2048
   */
  redirectUris?: string[];
  /**
   * Other portal users who work on the application.
   * @listType map
   * @listMapKey user
   * @maxItems 32
   */
  collaborators?: Collaborator[];
}

/** A portal user with a role on an application. */
export interface Collaborator {
  /**
   * The user's email address.
   * @minLength 3
   * @maxLength 320
   * @pattern ^[^@\s]+@[^@\s]+\.[^@\s]+$
   */
  user: string;
  /** Owner: everything. Collaborator: subscriptions and credentials. Reader: view only. */
  role: "Owner" | "Collaborator" | "Reader";
}

/** The observed state of an application. */
export interface ApiClientStatus extends CommonStatus {
  /** OAuth2 client id of the application. */
  clientId?: string;
  /** Number of subscriptions of the application. */
  subscriptionCount?: Int32;
}
