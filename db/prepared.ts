/**
 * Queries built and compiled with kysely once per shape, then run with each call's values. On the hot read
 * paths (the portal API's lists and its user lookup per request) building and compiling the query tree cost
 * more main-thread time than sending it; the SQL text only changes with the shape (which optional filters
 * are present), so it is compiled once per shape and only the parameters are new.
 *
 * The build function gets placeholders in place of the values and must branch only on what the shape key
 * says, never on a value. A placeholder stands for a value that is never null (kysely turns `= null` into
 * `is null` at build time) and must not be an array spread into a list (`in`); an array passed whole
 * (`sql.val(array)`) is one parameter and is fine.
 */
import { type Compilable, CompiledQuery } from "kysely";

const SLOT = Symbol("prepared-query-slot");

interface Placeholder {
  readonly [SLOT]: string;
}

function isPlaceholder(value: unknown): value is Placeholder {
  return typeof value === "object" && value !== null && SLOT in value;
}

interface Template {
  sql: string;
  /** Per parameter: the name of the value it takes, or the constant the build put there. */
  slots: Array<{ name: string } | { constant: unknown }>;
}

/** Compiles `build` once per shape key; returns the compiled query for `values`. */
export type PreparedQuery<V extends Record<string, unknown>> = <R>(
  shape: string,
  values: V,
  build: (values: V) => Compilable<R>,
) => CompiledQuery<R>;

/** A cache of one query site's compiled shapes (one per site: the shape keys are the site's own). */
export function preparedQuery<V extends Record<string, unknown>>(): PreparedQuery<V> {
  const templates = new Map<string, Template>();
  return <R>(shape: string, values: V, build: (values: V) => Compilable<R>): CompiledQuery<R> => {
    let template = templates.get(shape);
    if (!template) {
      const placeholders = Object.fromEntries(
        Object.keys(values).map((name) => [name, Object.freeze({ [SLOT]: name })]),
      ) as unknown as V;
      const compiled = build(placeholders).compile();
      template = {
        sql: compiled.sql,
        slots: compiled.parameters.map((p) => (isPlaceholder(p) ? { name: p[SLOT] } : { constant: p })),
      };
      templates.set(shape, template);
    }
    const parameters = template.slots.map((slot) => ("name" in slot ? values[slot.name] : slot.constant));
    return CompiledQuery.raw(template.sql, parameters) as CompiledQuery<R>;
  };
}
