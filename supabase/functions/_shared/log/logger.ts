import { maskFields } from "./mask.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
  /** A logger whose every line carries these fields (e.g. the correlation id). */
  child(fields: Record<string, unknown>): Logger;
}

export type LogSink = (line: string) => void;

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * One JSON object per line: `{ts, level, event, ...fields}` with phones, emails and bodies masked.
 */
export function createLogger(
  opts: { sink?: LogSink; level?: LogLevel; base?: Record<string, unknown>; now?: () => Date } = {},
): Logger {
  const sink = opts.sink ?? ((line: string) => console.log(line));
  const min = ORDER[opts.level ?? "info"];
  const now = opts.now ?? (() => new Date());
  const base = opts.base ?? {};
  const write = (level: LogLevel, event: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[level] < min) return;
    const masked = maskFields({ ...base, ...fields }) as Record<string, unknown>;
    sink(JSON.stringify({ ts: now().toISOString(), level, event, ...masked }));
  };
  return {
    debug: (e, f) => write("debug", e, f),
    info: (e, f) => write("info", e, f),
    warn: (e, f) => write("warn", e, f),
    error: (e, f) => write("error", e, f),
    child: (fields) => createLogger({ ...opts, base: { ...base, ...fields } }),
  };
}

/** A logger that keeps its lines, for tests and for the sandbox. */
export function memoryLogger(): Logger & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ sink: (l) => lines.push(JSON.parse(l)), level: "debug" });
  return Object.assign(logger, { lines });
}
