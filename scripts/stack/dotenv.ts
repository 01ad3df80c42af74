/**
 * A deliberately small reader for `supabase/functions/.env`: `KEY=value` lines, `#` comments,
 * an optional `export ` prefix, single quotes (literal) and double quotes (with \n, \t, \", \\).
 * An unquoted value ends at ` #`. No interpolation: the file holds secrets, not a shell script.
 */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (!line || line.startsWith("#")) continue;
    const m = line.match(/^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/);
    if (!m) continue;
    out[m[1]] = parseValue(m[2]);
  }
  return out;
}

function parseValue(raw: string): string {
  if (raw.startsWith("'")) {
    const end = raw.indexOf("'", 1);
    return end === -1 ? raw.slice(1) : raw.slice(1, end);
  }
  if (raw.startsWith('"')) {
    let value = "";
    for (let i = 1; i < raw.length; i++) {
      const ch = raw[i];
      if (ch === '"') break;
      if (ch === "\\" && i + 1 < raw.length) {
        const next = raw[++i];
        value += next === "n" ? "\n" : next === "t" ? "\t" : next === "r" ? "\r" : next;
      } else value += ch;
    }
    return value;
  }
  return raw.replace(/\s+#.*$/, "").trim();
}
