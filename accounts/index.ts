/**
 * Local accounts and the portal API's token scopes: the part of the portal API the auth server uses too
 * (its sign-up and login pages apply the same rules, its tokens carry these scopes). A candidate for a
 * top-level shared module; until then the auth server imports only this file of portal-api.
 */
export * from "./password.ts";
export * from "./policy.ts";
export * from "./scopes.ts";
export * from "./service.ts";
export * from "./sessions.ts";
export * from "./tokens.ts";
