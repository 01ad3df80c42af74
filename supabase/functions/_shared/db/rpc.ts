import type { Sql } from "./client.ts";
import type { Database } from "./database.types.ts";

/**
 * The one way code calls a SQL function: by name, with named arguments, typed from the generated
 * `Database["public"]["Functions"]` (`npm run db:types`). A renamed or retyped SQL argument is a
 * type error here instead of a wrong positional value at run time.
 *
 * - `rpc(sql, "fn", args)` for functions that return rows (`returns table` / `setof`): the rows.
 * - `rpcValue(sql, "fn", args)` for functions that return one value (or void): that value.
 *
 * Values travel as postgres.js parameters of unknown type, so Postgres types them from the
 * function's signature (text, uuid, uuid[], int, timestamptz …); objects and arrays of objects are
 * sent as jsonb (so a Json argument that is a bare string is not supported). Timestamps come back
 * as ISO strings, as the generated types say (postgres.js would parse them into `Date`).
 */
type Functions = Database["public"]["Functions"];
export type FunctionName = keyof Functions;
export type FunctionArgs<N extends FunctionName> = Functions[N]["Args"];
type Returns<N extends FunctionName> = Functions[N]["Returns"];

/** Functions that return rows: `returns table`/`setof` (an array) or one composite row. */
type RowFunctionName = {
  [N in FunctionName]: Returns<N> extends unknown[] ? N
    : Returns<N> extends Record<string, unknown> ? N
    : never;
}[FunctionName];
type ValueFunctionName = Exclude<FunctionName, RowFunctionName>;

export type RpcRow<N extends RowFunctionName> = Returns<N> extends (infer R)[] ? R : Returns<N>;
export type RpcValue<N extends ValueFunctionName> = Returns<N>;

/** `select * from public.<name>(arg => $1, …)`: every row, in the order the function returns them. */
export async function rpc<N extends RowFunctionName>(
  sql: Sql,
  name: N,
  args: FunctionArgs<N>,
): Promise<RpcRow<N>[]> {
  const rows = await sql`select * from ${qualified(sql, name)}(${namedArgs(sql, args)})`;
  return rows.map((row) => {
    for (const key in row) row[key] = isoDate(row[key]);
    return row;
  }) as unknown as RpcRow<N>[];
}

/** `select public.<name>(arg => $1, …) as value`: its one value (`undefined` for void). */
export async function rpcValue<N extends ValueFunctionName>(
  sql: Sql,
  name: N,
  args: FunctionArgs<N>,
): Promise<RpcValue<N>> {
  const [row] = await sql`select ${qualified(sql, name)}(${namedArgs(sql, args)}) as value`;
  return isoDate(row?.value ?? undefined) as RpcValue<N>;
}

function isoDate(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value;
}

function qualified(sql: Sql, name: string) {
  return sql(`public.${name}`);
}

// deno-lint-ignore no-explicit-any
type Fragment = any;

function namedArgs(sql: Sql, args: object): Fragment {
  const parts = Object.entries(args)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => sql`${sql(key)} => ${param(sql, value)}`);
  if (parts.length === 0) return sql``;
  return parts.reduce((acc, part) => sql`${acc}, ${part}`);
}

function param(sql: Sql, value: unknown): Fragment {
  if (value === null || value instanceof Date || typeof value !== "object") return value;
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== "object")) return value;
  return sql.json(value as never);
}
