/**
 * Every shell command in the README and docs runs as written. The `sh` blocks are extracted and
 * each command is checked by what it is: an npm script must exist (and `--help` ones are run);
 * a Supabase CLI command must take every flag it is given, as `supabase <command> --help` lists
 * it; a script or file it names must exist; and the ones that need a running stack, a deployed
 * project or credentials are skipped by the explicit list below, each with its reason. A
 * command that fits none of these fails the test, so a new one gets checked or a reason.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const DOCS = [
  "README.md",
  "OMNICHANNEL_QUICK_START.md",
  "tests/README.md",
  ...readdirSync("docs").filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`),
];
const scripts: Record<string, string> = JSON.parse(readFileSync("package.json", "utf8")).scripts;

/** Commands not run here, and why. Matched against the start of the command. */
const NOT_RUN: [RegExp, string][] = [
  [/^npm install$/, "installs the dependencies this checkout already has"],
  [/^npm start$/, "runs the stack until stopped (tests/stack/signals.test.ts boots it)"],
  [
    /^npm start -- --port-base/,
    "runs the stack until stopped (tests/stack/signals.test.ts boots it so)",
  ],
  [/^npm test$/, "the whole suite, this test included"],
  [/^npm run demo$/, "needs the stack (the Deno tier runs the demo's steps)"],
  [
    /^npm run sandbox -- (reply|messages|clear|fault|agent-reply|agent-end)/,
    "needs npm start running",
  ],
  [/^npm run bench(?! -- --help)/, "minutes of benchmarks (docs/BENCHMARKS.md has their output)"],
  [
    /^curl (-X \w+ )?(-H "[^"]*" |-d '[^']*' )*http:\/\/127\.0\.0\.1:5432[1-4]/,
    "needs npm start running",
  ],
  [
    /^(DATABASE_URL=\S+ )?npm run fuzz -- --requests/,
    "minutes of fuzzing (the suite runs 2,000 requests: tests/security/fuzz.test.ts)",
  ],
  [/^curl .*https:\/\/<ref>\.supabase\.co/, "needs a deployed Supabase project"],
  [/^curl .*"\$SUPABASE_URL/, "needs a deployed Supabase project and its key"],
  [/^curl .*"\$FUNCTIONS\//, "needs a running stack or project and its secret key"],
  [
    /^npx supabase (login|link|secrets set|functions deploy|db push)/,
    "needs a Supabase account or database (its flags are checked)",
  ],
  [
    /^npx deno run -A scripts\/bootstrap-db\.ts/,
    "needs a PostgreSQL to bootstrap (the file is checked)",
  ],
  [/^cp supabase\/functions\/\.env\.example /, "writes your .env (the example is checked)"],
];

/** Commands run here: they must exit 0. */
const RUN = [/^npm (start|run \w+) -- --help$/];

interface Command {
  doc: string;
  text: string;
}

/** The commands of every ```sh block: comments dropped, `\` continuations and quotes joined. */
function commands(doc: string): Command[] {
  const out: Command[] = [];
  for (const block of readFileSync(doc, "utf8").matchAll(/```sh\n([\s\S]*?)```/g)) {
    let pending = "";
    for (const raw of block[1].split("\n")) {
      pending += (pending ? " " : "") + raw.trim();
      const quotes = (pending.match(/'/g) ?? []).length;
      if (pending.endsWith("\\")) {
        pending = pending.slice(0, -1).trim();
        continue;
      }
      if (quotes % 2 === 1) continue;
      const text = pending.replace(/\s+#\s.*$/, "").trim();
      pending = "";
      if (text && !text.startsWith("#")) {
        for (const part of text.split(/\s*&&\s*/)) out.push({ doc, text: part });
      }
    }
  }
  return out;
}

const all = DOCS.flatMap(commands);
const key = (words: string[]) => words.join(" ");
const help = new Map<string, string>();

function supabaseHelp(words: string[]): string {
  const key = words.join(" ");
  if (!help.has(key)) {
    help.set(
      key,
      execFileSync("node_modules/.bin/supabase", [...words, "--help"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      }),
    );
  }
  return help.get(key)!;
}

/** What is wrong with a command that is not run, or null. */
function check(text: string): string | null {
  const npm = text.match(/^npm (?:run )?([\w:-]+)/);
  if (npm && !["install", "test", "start"].includes(npm[1]) && !scripts[npm[1]]) {
    return `no npm script ${npm[1]}`;
  }
  const cli = text.match(/^npx supabase ((?:[a-z]+ ?)+)(.*)$/);
  if (cli) {
    const words = cli[1].trim().split(" ");
    const flags = [...cli[2].matchAll(/(?:^|\s)(--[a-z-]+)/g)].map((m) => m[1]);
    const text = supabaseHelp(words);
    const unknown = flags.filter((f) => !new RegExp(`${f}\\b`).test(text));
    if (unknown.length) return `supabase ${words.join(" ")} takes no ${unknown.join(", ")}`;
    // CLI 3.1 pushes to the local database unless told otherwise, and asks first without --yes.
    if (key(words) === "db push" && !(flags.includes("--remote") && flags.includes("--yes"))) {
      return "db push needs --remote (else it targets the local database) and --yes (no terminal to confirm)";
    }
    return null;
  }
  const file = text.match(/^(?:npx deno run -A|cp) (\S+)/);
  if (file && !existsSync(file[1])) return `${file[1]} does not exist`;
  return null;
}

describe("shell commands in the docs", () => {
  it("finds the commands (guards this test itself)", () => {
    expect(all.length).toBeGreaterThan(15);
    expect(all.map((c) => c.text)).toContain("npm test");
  });

  it("never calls deno or the supabase CLI bare: they are not on PATH, npx finds them", () => {
    // "run `deno run …`" is an instruction; "`npm start` (`deno run …`)" only says what runs.
    const bare = DOCS.flatMap((doc) =>
      [...readFileSync(doc, "utf8").matchAll(/\brun `((?:deno|supabase) [^`]*)`/g)].map((m) =>
        `${doc}: ${m[1]}`
      )
    );
    const inBlocks = all.filter((c) => /^(deno|supabase) /.test(c.text)).map((c) =>
      `${c.doc}: ${c.text}`
    );
    expect([...bare, ...inBlocks]).toEqual([]);
  });

  it("has a check or a reason for every command, and each check passes", () => {
    const problems: string[] = [];
    for (const { doc, text } of all) {
      if (RUN.some((r) => r.test(text))) continue;
      const skipped = NOT_RUN.find(([r]) => r.test(text));
      const wrong = check(text);
      if (wrong) problems.push(`${doc}: ${text}: ${wrong}`);
      else if (!skipped) problems.push(`${doc}: ${text}: neither run nor listed with a reason`);
    }
    expect(problems).toEqual([]);
  }, 60_000);

  it("runs the ones that run without a stack", () => {
    const runnable = [...new Set(all.map((c) => c.text).filter((t) => RUN.some((r) => r.test(t))))];
    expect(runnable.length).toBeGreaterThan(0);
    for (const text of runnable) {
      const out = execFileSync("sh", ["-c", text], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
      expect(out, text).toMatch(/npm (start|run)/);
    }
  }, 120_000);
});
