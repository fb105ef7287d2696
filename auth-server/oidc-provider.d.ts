/**
 * Types for the parts of node-oidc-provider 9 the auth server uses. The package ships none and
 * @types/oidc-provider is not a dependency, so this declares exactly what auth-server relies on; widen it
 * as the code uses more.
 */
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  /** What the provider stores per model instance. */
  export interface AdapterPayload {
    [key: string]: unknown;
    grantId?: string;
    userCode?: string;
    uid?: string;
    /** Epoch seconds when a single-use instance was consumed. */
    consumed?: number;
  }

  /** The storage interface (example/my_adapter.js). */
  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  /** A client as the provider loaded it. */
  export interface Client {
    clientId: string;
    clientAuthMethod: string;
    redirectUris: string[];
    grantTypeAllowed(type: string): boolean;
  }

  /** The request context the provider passes to configuration functions. */
  export interface KoaContextWithOIDC {
    oidc: {
      route: string;
      client?: Client;
      params?: Record<string, unknown>;
      entities: Record<string, unknown>;
    };
    ip: string;
  }

  /** A resource server (audience) the provider issues access tokens for. */
  export interface ResourceServerInfo {
    scope: string;
    audience?: string;
    accessTokenTTL?: number;
    accessTokenFormat?: "opaque" | "jwt";
    jwt?: { sign?: { alg: string } };
  }

  /** An account as findAccount returns it. */
  export interface Account {
    accountId: string;
    claims(
      use: string,
      scope: string,
      claims: unknown,
      rejected: string[],
    ): Promise<Record<string, unknown>> | Record<string, unknown>;
  }

  /** Client metadata (RFC 7591 names). */
  export interface ClientMetadata {
    client_id: string;
    client_secret?: string;
    client_name?: string;
    redirect_uris?: string[];
    post_logout_redirect_uris?: string[];
    grant_types?: string[];
    response_types?: string[];
    token_endpoint_auth_method?: string;
    scope?: string;
    [key: string]: unknown;
  }

  /** The provider's configuration object (the subset wicked sets). */
  export interface Configuration {
    adapter?: (model: string) => Adapter;
    clients?: ClientMetadata[];
    clientDefaults?: Partial<ClientMetadata>;
    clientBasedCORS?: (ctx: KoaContextWithOIDC, origin: string, client: Client) => boolean;
    claims?: Record<string, string[] | null>;
    scopes?: string[];
    cookies?: {
      keys?: Array<string | Buffer>;
      names?: Record<string, string>;
      long?: Record<string, unknown>;
      short?: Record<string, unknown>;
    };
    findAccount?: (ctx: KoaContextWithOIDC, sub: string, token?: unknown) => Promise<Account | undefined>;
    extraTokenClaims?: (
      ctx: KoaContextWithOIDC,
      token: unknown,
    ) => Promise<Record<string, unknown> | undefined>;
    features?: Record<string, Record<string, unknown>>;
    interactions?: { url?: (ctx: KoaContextWithOIDC, interaction: Interaction) => Promise<string> | string };
    jwks?: { keys: Array<Record<string, unknown>> };
    pkce?: { required?: (ctx: KoaContextWithOIDC, client: Client) => boolean };
    responseTypes?: string[];
    routes?: Record<string, string>;
    rotateRefreshToken?: boolean | ((ctx: KoaContextWithOIDC) => boolean);
    issueRefreshToken?: (
      ctx: KoaContextWithOIDC,
      client: Client,
      code: unknown,
    ) => Promise<boolean> | boolean;
    ttl?: Record<string, number | ((...args: unknown[]) => number)>;
    renderError?: (
      ctx: { type: string; body: unknown },
      out: Record<string, string>,
      error: Error,
    ) => Promise<void>;
    conformIdTokenClaims?: boolean;
    enabledJWA?: Record<string, string[]>;
    [key: string]: unknown;
  }

  /** A prompt of an interaction. */
  export interface Prompt {
    name: "login" | "consent" | string;
    reasons: string[];
    details: {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
      [key: string]: unknown;
    };
  }

  /** An interaction in progress (a login or consent page). */
  export interface Interaction {
    uid: string;
    exp: number;
    returnTo: string;
    prompt: Prompt;
    params: Record<string, unknown> & { client_id: string; scope?: string };
    session?: { accountId?: string; uid?: string };
    grantId?: string;
    result?: Record<string, unknown>;
    lastSubmission?: Record<string, unknown>;
    save(ttl: number): Promise<string>;
  }

  /** What a grant holds: scopes and claims per audience. */
  export interface Grant {
    accountId?: string;
    clientId?: string;
    jti: string;
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(resource: string, scope: string): void;
    save(ttl?: number): Promise<string>;
  }

  /** The provider (a Koa app). */
  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    proxy: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
    interactionResult(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<string>;
    on(event: string, listener: (...args: unknown[]) => void): this;
    readonly Grant: {
      new (properties: { accountId: string; clientId: string }): Grant;
      find(id: string): Promise<Grant | undefined>;
    };
    readonly Interaction: { find(id: string): Promise<Interaction | undefined> };
    readonly Client: { find(id: string): Promise<Client | undefined> };
  }

  /** The provider's OAuth errors. */
  export const errors: {
    InvalidTarget: new (description?: string, detail?: string) => Error;
    InvalidRequest: new (description?: string) => Error;
    AccessDenied: new (description?: string) => Error;
  };

  export default Provider;
}
