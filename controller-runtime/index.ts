/** The controller runtime's public API; controllers import from here. */
export * from "./backoff.ts";
export * from "./cache.ts";
export * from "./client.ts";
export * from "./conditions.ts";
export * from "./controller.ts";
export * from "./errors.ts";
export * from "./events.ts";
export * from "./finalizer.ts";
export * from "./leaderelection.ts";
export * from "./manager.ts";
export * from "./owners.ts";
export * from "./time.ts";
export * from "./types.ts";
