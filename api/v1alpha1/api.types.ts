import type {
  CommonStatus,
  ConfigMapKeyReference,
  Int32,
  KongPluginSpec,
  LocalObjectReference,
  ObjectMeta,
} from "./common.types.ts";

/**
 * Api is an API published on the portal's gateway: where it runs, which routes reach it, how clients
 * authenticate and which plans they can subscribe to.
 * @plural apis
 * @shortName wapi
 * @printColumn {"name": "Display Name", "type": "string", "jsonPath": ".spec.displayName"}
 * @printColumn {"name": "Auth", "type": "string", "jsonPath": ".spec.auth.type"}
 * @printColumn {"name": "Subscriptions", "type": "integer", "jsonPath": ".status.subscriptionCount"}
 * @printColumn {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}
 * @printColumn {"name": "Reason", "type": "string", "priority": 1, "jsonPath": ".status.conditions[?(@.type==\"Ready\")].reason"}
 * @printColumn {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
 */
export interface Api {
  apiVersion: "wicked.dev/v1alpha1";
  kind: "Api";
  metadata: ObjectMeta;
  spec: ApiSpec;
  status?: ApiStatus;
}

/**
 * The desired state of an API.
 * @xValidation {"rule": "self.auth.type == 'none' || (has(self.plans) && size(self.plans) > 0)", "message": "an API with key-auth or oauth2 needs at least one plan in plans, or nobody can subscribe"}
 * @xValidation {"rule": "self.auth.type != 'none' || !has(self.plans) || size(self.plans) == 0", "message": "an API with auth type none is open to everyone and takes no plans; remove plans or choose key-auth or oauth2"}
 */
export interface ApiSpec {
  /**
   * Name shown in the portal's catalog.
   * @minLength 1
   * @maxLength 100
   */
  displayName: string;
  /**
   * Description in markdown, shown on the API's page.
   * @maxLength 65536
   */
  description?: string;
  /** Where the API's implementation runs; the gateway forwards requests there. */
  upstream: UpstreamSpec;
  /**
   * Routes through which clients reach the API on the gateway.
   * @minItems 1
   * @maxItems 16
   */
  routes: RouteSpec[];
  /**
   * How clients authenticate at the gateway.
   * @default {}
   */
  auth?: AuthSpec;
  /**
   * Names of the Plans clients can subscribe to.
   * @maxItems 16
   * @listType set
   */
  plans?: string[];
  /**
   * Only members of this portal group see the API and can subscribe; empty means everyone.
   * @pattern ^[a-z][a-z0-9-]*$
   * @maxLength 63
   */
  requiredGroup?: string;
  /** The API's OpenAPI document, shown as interactive documentation. */
  openApi?: OpenApiSource;
  /**
   * Extra Kong plugins applied to the API's service.
   * @listType map
   * @listMapKey name
   * @maxItems 16
   */
  plugins?: KongPluginSpec[];
  /** Marks the API deprecated; the portal shows it and refuses new subscriptions. */
  deprecation?: DeprecationSpec;
  /**
   * Free-form tags for the catalog's filters.
   * @maxItems 16
   * @listType set
   */
  tags?: string[];
}

/**
 * The API's implementation: a URL, or a Service in the same namespace.
 * @xValidation {"rule": "has(self.url) != has(self.serviceRef)", "message": "set exactly one of upstream.url and upstream.serviceRef"}
 */
export interface UpstreamSpec {
  /**
   * URL of the implementation, for example http://orders.shop.svc:8080/v1.
   * @format uri
   * @pattern ^https?://[^\s/]+(/[^\s]*)?$
   * @maxLength 2048
   */
  url?: string;
  /** A Service in the Api's namespace. */
  serviceRef?: ServiceReference;
}

/** A Service and port. */
export interface ServiceReference extends LocalObjectReference {
  /**
   * Port of the Service.
   * @minimum 1
   * @maximum 65535
   */
  port: Int32;
  /**
   * Path prefix at the Service.
   * @pattern ^/
   * @maxLength 1024
   */
  path?: string;
}

/**
 * One gateway route.
 * @xValidation {"rule": "(has(self.paths) && size(self.paths) > 0) || (has(self.hosts) && size(self.hosts) > 0)", "message": "a route needs at least one path or one host"}
 */
export interface RouteSpec {
  /**
   * Path prefixes, each starting with /.
   * @maxItems 16
   * @listType set
   * @itemsPattern ^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$
   * @itemsMaxLength 1024
   */
  paths?: string[];
  /**
   * Host names; a leading wildcard label is allowed (*.example.com).
   * @maxItems 16
   * @listType set
   * @itemsPattern ^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$
   * @itemsMaxLength 253
   */
  hosts?: string[];
  /**
   * HTTP methods; empty means all.
   * @maxItems 9
   * @listType set
   */
  methods?: Array<"GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" | "TRACE" | "CONNECT">;
  /**
   * Whether the gateway removes the matched path prefix before forwarding; true when unset (the operator
   * applies it: a default inside a list item would make every re-apply of a manifest a change).
   */
  stripPath?: boolean;
}

/**
 * How clients authenticate at the gateway.
 * @xValidation {"rule": "self.type == 'oauth2' || !has(self.scopes)", "message": "auth.scopes is only used with auth type oauth2"}
 * @xValidation {"rule": "self.type == 'oauth2' || !has(self.flows)", "message": "auth.flows is only used with auth type oauth2"}
 * @xValidation {"rule": "self.type == 'key-auth' || !has(self.keyHeader)", "message": "auth.keyHeader is only used with auth type key-auth"}
 */
export interface AuthSpec {
  /**
   * key-auth: clients send an API key in a header. oauth2: clients send a JWT access token issued by the
   * portal's auth server. none: the API is open.
   * @default "key-auth"
   */
  type?: "key-auth" | "oauth2" | "none";
  /**
   * Header carrying the API key (key-auth only); X-Api-Key when not set. The gateway removes it before
   * forwarding.
   * @pattern ^[A-Za-z0-9-]+$
   * @maxLength 64
   */
  keyHeader?: string;
  /**
   * OAuth2 scopes the API understands (oauth2 only).
   * @listType map
   * @listMapKey name
   * @maxItems 64
   */
  scopes?: ScopeSpec[];
  /**
   * OAuth2 grants clients may use (oauth2 only).
   * @listType set
   * @maxItems 2
   */
  flows?: Array<"authorization_code" | "client_credentials">;
}

/** An OAuth2 scope. */
export interface ScopeSpec {
  /**
   * Scope value as it appears in tokens.
   * @pattern ^[\x21\x23-\x5B\x5D-\x7E]+$
   * @maxLength 128
   */
  name: string;
  /**
   * What the scope allows, shown on the consent page.
   * @maxLength 500
   */
  description?: string;
}

/**
 * The OpenAPI document: inline, from a ConfigMap, or from a URL.
 * @xValidation {"rule": "[has(self.inline), has(self.configMapRef), has(self.url)].filter(x, x).size() == 1", "message": "set exactly one of openApi.inline, openApi.configMapRef and openApi.url"}
 */
export interface OpenApiSource {
  /**
   * The document as JSON or YAML.
   * @maxLength 1048576
   */
  inline?: string;
  /** ConfigMap key holding the document. */
  configMapRef?: ConfigMapKeyReference;
  /**
   * URL the operator fetches the document from.
   * @format uri
   * @pattern ^https?://[^\s/]+(/[^\s]*)?$
   * @maxLength 2048
   */
  url?: string;
}

/**
 * Deprecation of an API.
 * @xValidation {"rule": "!has(self.sunset) || !has(self.since) || timestamp(self.sunset) > timestamp(self.since)", "message": "deprecation.sunset must be later than deprecation.since"}
 */
export interface DeprecationSpec {
  /**
   * When the API was deprecated.
   * @format date-time
   */
  since?: string;
  /**
   * When the API will be switched off.
   * @format date-time
   */
  sunset?: string;
  /**
   * What to use instead.
   * @maxLength 1000
   */
  message?: string;
}

/** The observed state of an API. */
export interface ApiStatus extends CommonStatus {
  /** Ids of the Kong entities that carry the API. */
  kong?: { serviceId?: string; routeIds?: string[] };
  /** Number of active subscriptions. */
  subscriptionCount?: Int32;
}

/** The header clients send the API key in when an Api's auth.keyHeader is not set. */
export const DEFAULT_KEY_HEADER = "X-Api-Key";
