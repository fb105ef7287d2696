/**
 * Schemas shared by the routes: the problem body, paging, and the objects several routes return. Every route
 * declares its params, query, body and responses with these, which validates requests, serializes responses
 * (dropping any field not in the schema, so nothing leaks by accident) and writes the OpenAPI document.
 */
import { type TSchema, Type } from "typebox";

/** The RFC 9457 problem body; registered as the shared schema `Problem`. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: "URI of the problem kind." }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String({ description: "What went wrong and what to do about it." }),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(
      Type.Array(Type.Object({ path: Type.Optional(Type.String()), message: Type.String() })),
    ),
  },
  { $id: "Problem", description: "An error, as RFC 9457 problem details." },
);

/** A reference to the shared Problem schema. */
export const ProblemRef = Type.Unsafe<Record<string, unknown>>({ $ref: "Problem#" });

/** Paging query parameters every list takes. */
export const PageQuery = {
  page: Type.Optional(Type.Integer({ minimum: 1, default: 1, description: "Page number, from 1." })),
  pageSize: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 100, default: 20, description: "Items per page (at most 100)." }),
  ),
};

/**
 * Who may call a route, as its OpenAPI `security`: a portal user's access token (`bearer`), anyone with more
 * shown to a user (`optionalBearer`), or anyone without a token (`none`: probes, the document itself and the
 * account routes used before logging in).
 */
export const Security: Record<"bearer" | "optionalBearer" | "none", Array<Record<string, string[]>>> = {
  bearer: [{ bearer: [] }],
  optionalBearer: [{}, { bearer: [] }],
  none: [],
};

/** A page of a list. */
export function Page<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    page: Type.Integer({ minimum: 1 }),
    pageSize: Type.Integer({ minimum: 1 }),
    total: Type.Integer({ minimum: 0, description: "Items matching the filters, on all pages." }),
  });
}

/** The `{ page, pageSize }` a request asked for, with defaults. */
export function paging(query: { page?: number; pageSize?: number }): {
  page: number;
  pageSize: number;
  offset: number;
} {
  const page = query.page ?? 1;
  const pageSize = query.pageSize ?? 20;
  return { page, pageSize, offset: (page - 1) * pageSize };
}

/** A name of a Kubernetes object in a path. */
export const NameParam = Type.Object({
  name: Type.String({ pattern: "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", maxLength: 253 }),
});

/** An answer without a body (202 Accepted). */
export const Accepted = Type.Object({ status: Type.Literal("accepted"), detail: Type.String() });

/** An application as the portal shows it. */
export const ApplicationSchema = Type.Object({
  name: Type.String(),
  displayName: Type.String(),
  description: Type.Optional(Type.String()),
  owner: Type.String(),
  clientType: Type.Union([Type.Literal("confidential"), Type.Literal("public")]),
  redirectUris: Type.Array(Type.String()),
  collaborators: Type.Array(
    Type.Object({
      user: Type.String(),
      role: Type.Union([Type.Literal("Owner"), Type.Literal("Collaborator"), Type.Literal("Reader")]),
    }),
  ),
  clientId: Type.Union([Type.String(), Type.Null()]),
  role: Type.Union([Type.Literal("Owner"), Type.Literal("Collaborator"), Type.Literal("Reader")], {
    description: "The caller's role on the application.",
  }),
});

/** A subscription as the portal shows it. */
export const SubscriptionSchema = Type.Object({
  name: Type.String(),
  application: Type.String(),
  api: Type.String(),
  plan: Type.String(),
  phase: Type.String({ description: "Pending, PendingApproval, Provisioning, Active, Rejected or Failed." }),
  approval: Type.Union([Type.Literal("Pending"), Type.Literal("Approved"), Type.Literal("Rejected")]),
  approvalReason: Type.Optional(Type.String()),
  credentialsReady: Type.Boolean(),
});
