import type {
  CommonStatus,
  ConfigMapKeyReference,
  Int32,
  Int64,
  LocalObjectReference,
  ObjectMeta,
  SecretKeyReference,
} from "./common.types.ts";

/**
 * ApiPortal is one API portal: the developer portal, its auth server and API, the database they share and the
 * Kong gateway the portal's APIs are published on. One per namespace.
 * @plural apiportals
 * @xValidation {"rule": "size(self.metadata.name) <= 51 && self.metadata.name.matches('^[a-z]')", "message": "metadata.name must start with a letter and have at most 51 characters: the portal's Services are named <name>-auth-server, <name>-portal-api and <name>-portal-ui"}
 * @shortName portal
 * @printColumn {"name": "URL", "type": "string", "jsonPath": ".spec.urls.portal"}
 * @printColumn {"name": "Gateway", "type": "string", "jsonPath": ".spec.gateway.mode"}
 * @printColumn {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}
 * @printColumn {"name": "Reason", "type": "string", "priority": 1, "jsonPath": ".status.conditions[?(@.type==\"Ready\")].reason"}
 * @printColumn {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
 */
export interface ApiPortal {
  apiVersion: "wicked.dev/v1alpha1";
  kind: "ApiPortal";
  metadata: ObjectMeta;
  spec: ApiPortalSpec;
  status?: ApiPortalStatus;
}

/**
 * The desired state of a portal.
 * @xValidation {"rule": "!has(self.exposure) || !has(self.gateway.mode) || self.gateway.mode != 'Managed' || url(self.urls.gateway).getEscapedPath() in ['', '/']", "message": "urls.gateway must have no path when the managed gateway is exposed: Kong matches the APIs' own route paths, so give the gateway a host of its own"}
 */
export interface ApiPortalSpec {
  /**
   * Name of the portal shown in page titles and mails.
   * @minLength 1
   * @maxLength 100
   */
  displayName: string;
  /** Public URLs under which users and API clients reach the portal's parts. */
  urls: PortalUrls;
  /** The Postgres database holding users, the read model, OAuth state, the audit log and the outbox. */
  database: DatabaseSpec;
  /** The Kong gateway the portal's APIs are published on. */
  gateway: GatewaySpec;
  /**
   * Image, replicas and resources of the portal's components.
   * @default {}
   */
  components?: ComponentsSpec;
  /**
   * How users log in.
   * @default {}
   */
  login?: LoginSpec;
  /**
   * Portal groups and how identity-provider groups map onto them.
   * @default {}
   */
  groups?: GroupsSpec;
  /** Outgoing mail. Without it no mail is sent and email verification is off. */
  mail?: MailSpec;
  /** Chat notifications (Slack, Microsoft Teams, RocketChat). */
  chat?: ChatSpec;
  /** Look of the portal. */
  branding?: BrandingSpec;
  /**
   * Extra pages of the portal (getting started, terms of use, ...).
   * @listType map
   * @listMapKey slug
   * @maxItems 32
   */
  contentPages?: ContentPage[];
  /** The auth server's token signing keys. */
  signingKeys?: SigningKeysSpec;
  /**
   * How the portal's URLs reach its Services from outside the cluster: the operator renders an Ingress or
   * Gateway API HTTPRoutes that route the portal UI, the portal API and the auth server under their URLs
   * (and, with a managed gateway, the gateway URL to Kong's proxy). Without it the operator routes nothing
   * and the platform team routes the URLs itself.
   */
  exposure?: ExposureSpec;
}

/**
 * What routes the portal's URLs: an Ingress or Gateway API HTTPRoutes.
 * @xValidation {"rule": "has(self.ingress) != has(self.httpRoute)", "message": "set exactly one of exposure.ingress and exposure.httpRoute"}
 */
export interface ExposureSpec {
  /** An Ingress named after the portal, served by the ingress controller of its class. */
  ingress?: IngressExposure;
  /** One Gateway API HTTPRoute per host, attached to the Gateway listeners named here. */
  httpRoute?: HttpRouteExposure;
}

/** The portal's Ingress. */
export interface IngressExposure {
  /**
   * IngressClass of the controller that serves it; the cluster's default class when unset.
   * @maxLength 253
   * @pattern ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$
   */
  className?: string;
  /**
   * Extra annotations for the ingress controller, for example nginx.ingress.kubernetes.io/proxy-body-size.
   * @maxProperties 32
   */
  annotations?: Record<string, string>;
  /**
   * TLS at the ingress for the portal's https hosts. Without it the controller serves them with its default
   * certificate, if it has one.
   */
  tls?: IngressTls;
}

/** The certificate of the portal's https hosts at the ingress. */
export interface IngressTls {
  /**
   * Secret of type kubernetes.io/tls in the portal's namespace with a certificate for every https host of the
   * portal's URLs. With issuerRef, cert-manager creates and renews it.
   * @minLength 1
   * @maxLength 253
   * @pattern ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$
   */
  secretName: string;
  /**
   * A cert-manager issuer: the Ingress gets the annotation cert-manager.io/issuer (or
   * cert-manager.io/cluster-issuer), and cert-manager's ingress-shim issues the certificate into secretName.
   */
  issuerRef?: CertManagerIssuerReference;
}

/** A cert-manager Issuer or ClusterIssuer. */
export interface CertManagerIssuerReference {
  /**
   * Name of the issuer.
   * @minLength 1
   * @maxLength 253
   */
  name: string;
  /**
   * Issuer (in the portal's namespace) or ClusterIssuer.
   * @default "Issuer"
   */
  kind?: "Issuer" | "ClusterIssuer";
}

/** The portal's HTTPRoutes. TLS is terminated by the Gateway listener they attach to. */
export interface HttpRouteExposure {
  /**
   * Gateways (and listeners, by sectionName) the routes attach to. The listener must accept routes from the
   * portal's namespace and, for https URLs, terminate TLS with a certificate for their hosts.
   * @minItems 1
   * @maxItems 8
   */
  parentRefs: GatewayParentReference[];
}

/** A Gateway API Gateway, or one of its listeners. */
export interface GatewayParentReference {
  /**
   * Name of the Gateway.
   * @minLength 1
   * @maxLength 253
   */
  name: string;
  /**
   * Namespace of the Gateway; the portal's namespace when unset.
   * @minLength 1
   * @maxLength 63
   * @pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$
   */
  namespace?: string;
  /**
   * Name of the listener, for example https; every listener that accepts the route when unset.
   * @minLength 1
   * @maxLength 253
   * @pattern ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$
   */
  sectionName?: string;
  /**
   * Port of the listeners to attach to.
   * @minimum 1
   * @maximum 65535
   */
  port?: Int32;
}

/**
 * Public base URLs. API and auth URLs default to the portal URL with the paths /api and /auth.
 * @xValidation {"rule": "!has(self.api) || self.api != self.portal", "message": "urls.api must differ from urls.portal; leave it out to serve the API under <portal>/api"}
 */
export interface PortalUrls {
  /**
   * URL of the developer portal, for example https://developer.example.com.
   * @format uri
   * @pattern ^https?://[^\s/]+(/[^\s]*)?$
   * @maxLength 2048
   */
  portal: string;
  /**
   * URL of the portal API.
   * @format uri
   * @pattern ^https?://[^\s/]+(/[^\s]*)?$
   * @maxLength 2048
   */
  api?: string;
  /**
   * URL of the OAuth 2.0 / OpenID Connect auth server (its issuer).
   * @format uri
   * @pattern ^https?://[^\s/]+(/[^\s]*)?$
   * @maxLength 2048
   */
  auth?: string;
  /**
   * Public URL of the gateway's proxy: API clients call the APIs under it. Written into every credentials
   * Secret.
   * @format uri
   * @pattern ^https?://[^\s/]+(/[^\s]*)?$
   * @maxLength 2048
   */
  gateway: string;
}

/** Where the portal's database is and what happens to it when the portal is deleted. */
export interface DatabaseSpec {
  /**
   * Secret key holding a Postgres connection string (postgres://user:password@host:5432/wicked).
   */
  urlSecretRef: SecretKeyReference;
  /**
   * What deleting the ApiPortal does to the database: Retain keeps every row; Delete drops wicked's tables.
   * @default "Retain"
   */
  deletionPolicy?: "Retain" | "Delete";
}

/**
 * The Kong gateway.
 * @xValidation {"rule": "self.mode != 'External' || has(self.adminUrl)", "message": "gateway.adminUrl is required when gateway.mode is External"}
 * @xValidation {"rule": "self.mode == 'External' || !has(self.adminUrl)", "message": "gateway.adminUrl is only used when gateway.mode is External"}
 * @xValidation {"rule": "self.mode == 'Managed' || !has(self.managed)", "message": "gateway.managed is only used when gateway.mode is Managed"}
 * @xValidation {"rule": "self.mode != 'Managed' || has(self.managed)", "message": "gateway.managed (at least its databaseUrlSecretRef) is required when gateway.mode is Managed"}
 */
export interface GatewaySpec {
  /**
   * External: wicked configures an existing Kong through its Admin API. Managed: wicked runs Kong itself.
   * None: no gateway yet; the portal works and GatewayReady says so.
   * @default "None"
   */
  mode?: "External" | "Managed" | "None";
  /**
   * Kong Admin API URL, for example http://kong-admin.kong:8001.
   * @format uri
   * @pattern ^https?://[^\s/]+(/[^\s]*)?$
   * @maxLength 2048
   */
  adminUrl?: string;
  /** Secret key with a token sent to the Admin API as the Kong-Admin-Token header. */
  adminTokenSecretRef?: SecretKeyReference;
  /** The Kong that wicked runs when mode is Managed. */
  managed?: ManagedKongSpec;
}

/**
 * A Kong 3.x run by wicked in DB mode on the Postgres database named by databaseUrlSecretRef: a Deployment
 * `<portal>-kong`, the Services `<portal>-kong-proxy` (port 80) and `<portal>-kong-admin` (port 8001, reachable
 * only from the portal's and the operator's namespaces), and the migration Jobs `<portal>-kong-migrate`
 * (bootstrap, then up, before each rollout) and `<portal>-kong-finish` (after it).
 */
export interface ManagedKongSpec {
  /**
   * Kong image (Kong 3.x, OSS or Enterprise in free mode). Changing it upgrades Kong: `kong migrations up`
   * runs with the new image, then the Deployment rolls, then `kong migrations finish` runs.
   * @default "kong:3.9"
   * @maxLength 512
   */
  image?: string;
  /**
   * Number of Kong proxy replicas.
   * @minimum 1
   * @maximum 50
   * @default 2
   */
  replicas?: Int32;
  /**
   * Secret key with the connection string of Kong's own database, for example
   * postgres://kong:password@db.example.com:5432/kong?sslmode=require. The operator derives Kong's KONG_PG_*
   * settings from it into the Secret `<portal>-kong-database`.
   */
  databaseUrlSecretRef: SecretKeyReference;
  /** Compute resources of each Kong replica; defaults suit a small gateway. */
  resources?: ResourceRequirements;
}

/** Settings of each component. */
export interface ComponentsSpec {
  /**
   * Image of wicked; every component runs it with its own command.
   * @maxLength 512
   */
  image?: string;
  /**
   * The server-rendered developer portal (port 3000).
   * @default {}
   */
  portalUi?: ComponentSpec;
  /**
   * The portal REST API (port 3001).
   * @default {}
   */
  portalApi?: ComponentSpec;
  /**
   * The OAuth 2.0 / OpenID Connect auth server (port 3010).
   * @default {}
   */
  authServer?: ComponentSpec;
}

/** Replicas and resources of one component. */
export interface ComponentSpec {
  /**
   * Number of replicas.
   * @minimum 0
   * @maximum 50
   * @default 1
   */
  replicas?: Int32;
  /** Compute resources; defaults suit a small portal. */
  resources?: ResourceRequirements;
}

/** Compute resources in Kubernetes quantity notation. */
export interface ResourceRequirements {
  /**
   * Guaranteed resources, for example {cpu: 100m, memory: 128Mi}.
   * @maxProperties 8
   */
  requests?: Record<string, string>;
  /**
   * Resource caps, for example {memory: 256Mi}.
   * @maxProperties 8
   */
  limits?: Record<string, string>;
}

/**
 * How users authenticate.
 * @xValidation {"rule": "!has(self.local) || !has(self.local.enabled) || self.local.enabled || (has(self.oidc) && size(self.oidc) > 0)", "message": "enable local login or configure at least one OIDC provider, or nobody can log in"}
 */
export interface LoginSpec {
  /**
   * Accounts with email and password kept by the portal.
   * @default {}
   */
  local?: LocalLoginSpec;
  /**
   * Federated login through OpenID Connect providers.
   * @listType map
   * @listMapKey name
   * @maxItems 8
   */
  oidc?: OidcProviderSpec[];
}

/** Local accounts. */
export interface LocalLoginSpec {
  /**
   * Whether users can log in with email and password.
   * @default true
   */
  enabled?: boolean;
  /**
   * Whether anyone can sign up; when false, only federated users and accounts created by admins exist.
   * @default true
   */
  allowSignup?: boolean;
  /**
   * Minimum password length.
   * @minimum 8
   * @maximum 128
   * @default 12
   */
  passwordMinLength?: Int32;
}

/** An upstream OpenID Connect identity provider. */
export interface OidcProviderSpec {
  /**
   * Short name, used in callback URLs.
   * @minLength 1
   * @maxLength 32
   * @pattern ^[a-z][a-z0-9-]*$
   */
  name: string;
  /**
   * Label of the login button.
   * @minLength 1
   * @maxLength 64
   */
  displayName: string;
  /**
   * Issuer URL; its /.well-known/openid-configuration must be reachable from the auth server.
   * @format uri
   * @pattern ^https?://[^\s/]+(/[^\s]*)?$
   * @maxLength 2048
   */
  issuer: string;
  /**
   * Client id registered at the provider.
   * @minLength 1
   * @maxLength 256
   */
  clientId: string;
  /** Secret key holding the client secret. */
  clientSecretRef: SecretKeyReference;
  /**
   * Scopes to request; openid, email and profile when unset (applied by the operator, not written into the
   * list item).
   * @maxItems 16
   */
  scopes?: string[];
  /**
   * Claim carrying the user's groups at the provider; mapped through groups.mappings.
   * @maxLength 128
   */
  groupsClaim?: string;
}

/** Portal groups. */
export interface GroupsSpec {
  /**
   * Members of this group administer the portal.
   * @default "admin"
   * @pattern ^[a-z][a-z0-9-]*$
   * @maxLength 63
   */
  admin?: string;
  /**
   * Members of this group approve subscriptions to APIs in groups they belong to.
   * @default "approver"
   * @pattern ^[a-z][a-z0-9-]*$
   * @maxLength 63
   */
  approver?: string;
  /**
   * Identity-provider groups mapped to portal groups.
   * @maxItems 64
   */
  mappings?: GroupMapping[];
}

/** Maps a group at an identity provider onto a portal group. */
export interface GroupMapping {
  /**
   * Group name as the identity provider sends it.
   * @minLength 1
   * @maxLength 256
   */
  idpGroup: string;
  /**
   * Portal group the user joins.
   * @pattern ^[a-z][a-z0-9-]*$
   * @maxLength 63
   */
  group: string;
}

/** Outgoing mail through SMTP. */
export interface MailSpec {
  /**
   * Secret with the SMTP connection: a key `url` such as smtps://user:password@smtp.example.com:465.
   */
  smtpSecretRef: LocalObjectReference;
  /**
   * Sender address, for example "API Portal <noreply@example.com>".
   * @minLength 3
   * @maxLength 320
   * @pattern ^([^<>]+<)?[^@\s<>]+@[^@\s<>]+>?$
   */
  from: string;
  /**
   * Addresses told about approvals when an API has no approver group.
   * @maxItems 32
   */
  adminAddresses?: string[];
  /** ConfigMap whose keys override the default templates (for example `verify-email.subject`). */
  templatesConfigMapRef?: LocalObjectReference;
}

/** Chat targets. */
export interface ChatSpec {
  /**
   * Where to post.
   * @listType map
   * @listMapKey name
   * @maxItems 16
   */
  targets: ChatTarget[];
}

/** One chat channel and what it hears about. */
export interface ChatTarget {
  /**
   * Name of the target.
   * @pattern ^[a-z][a-z0-9-]*$
   * @maxLength 63
   */
  name: string;
  /** Kind of incoming webhook. */
  type: "Slack" | "Teams" | "RocketChat";
  /** Secret key holding the incoming webhook URL. */
  webhookUrlSecretRef: SecretKeyReference;
  /**
   * Events posted to this target.
   * @minItems 1
   * @maxItems 8
   * @listType set
   */
  events: Array<
    | "SignedUp"
    | "UserVerified"
    | "ApplicationAdded"
    | "ApplicationDeleted"
    | "SubscriptionAdded"
    | "SubscriptionDeleted"
    | "ApprovalRequired"
    | "PasswordResetRequested"
  >;
}

/** Look of the portal. */
export interface BrandingSpec {
  /**
   * Title on the home page.
   * @maxLength 100
   */
  title?: string;
  /**
   * Logo URL.
   * @format uri
   * @pattern ^https?://
   * @maxLength 2048
   */
  logoUrl?: string;
  /**
   * Accent colour as #rrggbb.
   * @pattern ^#[0-9a-fA-F]{6}$
   */
  primaryColor?: string;
  /**
   * Footer text.
   * @maxLength 500
   */
  footer?: string;
}

/**
 * A content page in markdown, inline or from a ConfigMap.
 * @xValidation {"rule": "has(self.markdown) != has(self.configMapRef)", "message": "set exactly one of markdown and configMapRef"}
 */
export interface ContentPage {
  /**
   * URL path segment of the page.
   * @pattern ^[a-z0-9][a-z0-9-]*$
   * @maxLength 63
   */
  slug: string;
  /**
   * Page title.
   * @minLength 1
   * @maxLength 100
   */
  title: string;
  /**
   * Markdown body.
   * @maxLength 65536
   */
  markdown?: string;
  /** ConfigMap key holding the markdown body. */
  configMapRef?: ConfigMapKeyReference;
}

/** Signing key rotation. */
export interface SigningKeysSpec {
  /**
   * Setting this to a later time than the current key's creation rotates the signing key: a new key signs,
   * and the previous key stays published for verification until tokens signed with it expire.
   * @format date-time
   */
  rotationRequestedAt?: string;
}

/** The observed state of a portal. */
export interface ApiPortalStatus extends CommonStatus {
  /** URLs the portal is served under. */
  urls?: { portal?: string; api?: string; auth?: string; gateway?: string };
  /** What the operator routes from outside the cluster, when spec.exposure asks for it. */
  exposure?: ExposureStatus;
  /**
   * Readiness of each component.
   * @listType map
   * @listMapKey name
   * @maxItems 8
   */
  components?: ComponentStatus[];
  /**
   * Database schema version after the last migration.
   * @maxLength 128
   */
  schemaVersion?: string;
  /** How many resources of each kind belong to the portal. */
  counts?: { apis?: Int32; plans?: Int32; clients?: Int32; subscriptions?: Int32 };
}

/** The routing objects the operator applied and the URLs they route. */
export interface ExposureStatus {
  /** Kind of the routing objects: Ingress or HTTPRoute. */
  kind: "Ingress" | "HTTPRoute";
  /**
   * The URLs the applied objects route, each to its Service.
   * @listType map
   * @listMapKey name
   * @maxItems 4
   */
  routes?: ExposedRoute[];
  /**
   * Addresses the ingress controller published for the Ingress (its load balancer's IPs or host names).
   * @maxItems 16
   */
  addresses?: string[];
}

/** One URL routed to one of the portal's Services. */
export interface ExposedRoute {
  /** Which of the portal's URLs: portal, api, auth or gateway. */
  name: "portal" | "api" | "auth" | "gateway";
  /** The URL. */
  url: string;
  /** The Service it reaches. */
  service: string;
  /** The Ingress or HTTPRoute that routes it. */
  object: string;
}

/** Readiness of one component. */
export interface ComponentStatus {
  /** Component name: portal-ui, portal-api, auth-server or kong. */
  name: string;
  /** Replicas wanted. */
  replicas: Int32;
  /** Replicas available. */
  readyReplicas: Int32;
  /** Generation of the Deployment last seen. */
  observedGeneration?: Int64;
}
