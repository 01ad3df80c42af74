/**
 * A readable, deterministic dump of the public schema of a migrated database: every table
 * (columns, constraints, indexes, RLS, policies, triggers, grants, comments) and every function
 * (its full current definition and grants), sorted by name. It reads the catalogs with plain
 * queries, so it runs on PGlite and PostgreSQL alike (pg_dump does not run on PGlite).
 * Written to supabase/schema/current.sql by scripts/gen-schema.ts (npm run db:schema);
 * supabase/tests/schema-drift.test.ts fails when that file is out of date.
 */
export type Query = (text: string) => Promise<Record<string, unknown>[]>;

export const SCHEMA_PATH = "supabase/schema/current.sql";

const HEADER = [
  "-- The current definition of every table and SQL function in schema public, as the",
  "-- migrations in supabase/migrations/ leave them. Generated from a migrated database by",
  "-- scripts/gen-schema.ts (npm run db:schema); do not edit: change the schema with a new",
  "-- migration, then regenerate (supabase/tests/schema-drift.test.ts fails until you do).",
  "",
];

export async function dumpSchema(query: Query): Promise<string> {
  const tables = await query(`
    select c.oid, c.relname, c.relrowsecurity, obj_description(c.oid, 'pg_class') as comment
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p') order by c.relname`);
  const functions = await query(`
    select p.oid, pg_get_functiondef(p.oid) as def, obj_description(p.oid, 'pg_proc') as comment,
           p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' as signature
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'public' and p.prokind in ('f', 'p')
    order by p.proname, pg_get_function_identity_arguments(p.oid)`);
  const out = [...HEADER];
  for (const t of tables) out.push(...await renderTable(query, t), "");
  for (const f of functions) out.push(...await renderFunction(query, f), "");
  return out.join("\n").trimEnd() + "\n";
}

async function renderTable(query: Query, t: Record<string, unknown>): Promise<string[]> {
  const name = `public.${t.relname}`;
  const oid = Number(t.oid);
  const columns = await query(`
    select a.attname, format_type(a.atttypid, a.atttypmod) as type, a.attnotnull,
           pg_get_expr(d.adbin, d.adrelid) as default, col_description(a.attrelid, a.attnum) as comment
    from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
    where a.attrelid = ${oid} and a.attnum > 0 and not a.attisdropped order by a.attnum`);
  const constraints = await query(`
    -- Not the NOT NULL constraints PostgreSQL 18 (PGlite) lists here: the columns show them.
    select conname, pg_get_constraintdef(oid) as def from pg_constraint
    where conrelid = ${oid} and contype <> 'n' order by conname`);
  const indexes = await query(`
    select pg_get_indexdef(i.indexrelid) as def from pg_index i join pg_class c on c.oid = i.indexrelid
    where i.indrelid = ${oid}
      and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid and k.conrelid = ${oid})
    order by c.relname`);
  const policies = await query(`
    select policyname, permissive, roles::text as roles, cmd, qual, with_check from pg_policies
    where schemaname = 'public' and tablename = '${t.relname}' order by policyname`);
  const triggers = await query(`
    select pg_get_triggerdef(oid) as def from pg_trigger
    where tgrelid = ${oid} and not tgisinternal order by tgname`);

  const lines = [`create table ${name} (`];
  lines.push(
    [
      ...columns.map((c) =>
        `  ${c.attname} ${c.type}${c.attnotnull ? " not null" : ""}${
          c.default ? ` default ${c.default}` : ""
        }`
      ),
      ...constraints.map((c) => `  constraint ${c.conname} ${c.def}`),
    ].join(",\n"),
  );
  lines.push(");");
  for (const i of indexes) lines.push(`${i.def};`);
  if (t.relrowsecurity) lines.push(`alter table ${name} enable row level security;`);
  for (const p of policies) lines.push(renderPolicy(name, p));
  for (const tr of triggers) lines.push(`${tr.def};`);
  lines.push(...await renderGrants(query, "pg_class", "relacl", oid, `table ${name}`));
  if (t.comment) lines.push(`comment on table ${name} is ${literal(String(t.comment))};`);
  for (const c of columns) {
    if (c.comment) {
      lines.push(`comment on column ${name}.${c.attname} is ${literal(String(c.comment))};`);
    }
  }
  return lines;
}

function renderPolicy(table: string, p: Record<string, unknown>): string {
  const roles = String(p.roles).replace(/^\{|\}$/g, "").split(",").join(", ");
  return [
    `create policy ${p.policyname} on ${table} as ${String(p.permissive).toLowerCase()}`,
    ` for ${String(p.cmd).toLowerCase()} to ${roles}`,
    p.qual ? ` using (${p.qual})` : "",
    p.with_check ? ` with check (${p.with_check})` : "",
    ";",
  ].join("");
}

async function renderFunction(query: Query, f: Record<string, unknown>): Promise<string[]> {
  const lines = [`${String(f.def).trimEnd()};`];
  lines.push(
    ...await renderGrants(
      query,
      "pg_proc",
      "proacl",
      Number(f.oid),
      `function public.${f.signature}`,
    ),
  );
  if (f.comment) {
    lines.push(`comment on function public.${f.signature} is ${literal(String(f.comment))};`);
  }
  return lines;
}

/** Who may do what, sorted; PUBLIC included. No line when the object has default privileges. */
async function renderGrants(
  query: Query,
  catalog: string,
  aclColumn: string,
  oid: number,
  object: string,
): Promise<string[]> {
  const rows = await query(`
    select coalesce(r.rolname, 'public') as grantee,
           string_agg(lower(a.privilege_type), ', ' order by a.privilege_type) as privileges
    from ${catalog} o, aclexplode(o.${aclColumn}) a left join pg_roles r on r.oid = a.grantee
    where o.oid = ${oid} and a.grantee <> o.${catalog === "pg_proc" ? "proowner" : "relowner"}
    group by 1 order by 1`);
  return rows.map((r) => `grant ${r.privileges} on ${object} to ${r.grantee};`);
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
