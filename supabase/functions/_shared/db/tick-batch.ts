import type { Sql } from "./client.ts";
import { isDatabaseUnavailable } from "./errors.ts";

/**
 * Groups the writes of concurrent requests into one statement per event-loop turn: `add` queues
 * an item and resolves, once the batch holding it has been written (committed), with that
 * item's result — or rejects with the batch's error, so a failed batch fails every request in
 * it (safe because each write is idempotent and the provider redelivers what was not
 * acknowledged).
 *
 * A batch closes at the end of the turn that opened it (a macrotask), so requests whose bodies
 * were read in the same turn share one round trip and one commit. A batch is capped at
 * `maxItems`; while one is being written the next one fills.
 */
export interface TickBatcher<T, R> {
  add(item: T): Promise<R>;
}

/** A write's result for one item that failed alone: only that item's caller sees the error. */
export class ItemFailure {
  constructor(readonly error: unknown) {}
}

type Waiter<R> = { resolve(r: R): void; reject(e: unknown): void };

export function createTickBatcher<T, R = void>(
  /**
   * Writes the items; returns one result per item, in order (an empty array for void), an
   * ItemFailure for an item that failed on its own, or throws to fail the whole batch.
   */
  write: (items: T[]) => Promise<(R | ItemFailure)[]>,
  opts: { maxItems?: number } = {},
): TickBatcher<T, R> {
  const maxItems = opts.maxItems ?? 200;
  let open: { items: T[]; waiters: Waiter<R>[] } | null = null;

  const flush = (batch: { items: T[]; waiters: Waiter<R>[] }) => {
    if (open !== batch) return; // already flushed when it filled up
    open = null;
    write(batch.items).then(
      (results) =>
        batch.waiters.forEach((w, i) => {
          const r = results[i];
          if (r instanceof ItemFailure) w.reject(r.error);
          else w.resolve(r as R);
        }),
      (err) => batch.waiters.forEach((w) => w.reject(err)),
    );
  };

  return {
    add(item) {
      return new Promise<R>((resolve, reject) => {
        if (!open) {
          const batch = { items: [] as T[], waiters: [] as Waiter<R>[] };
          open = batch;
          setTimeout(() => flush(batch), 0);
        }
        const batch = open;
        batch.items.push(item);
        batch.waiters.push({ resolve, reject });
        if (batch.items.length >= maxItems) flush(batch);
      });
    },
  };
}

/**
 * A batched writer per connection pool: `one` writes an item alone, `many` writes several in one
 * statement (one result per item, in order). A batch that fails because the database is
 * unavailable fails every request in it; any other failure is one bad item spoiling the batch,
 * so its items are written again one by one and only that item's request fails.
 */
export function batchedPerPool<T, R>(
  one: (sql: Sql, item: T) => Promise<R>,
  many: (sql: Sql, items: T[]) => Promise<R[]>,
): (sql: Sql, item: T) => Promise<R> {
  const batchers = new WeakMap<Sql, TickBatcher<T, R>>();
  const write = async (sql: Sql, items: T[]): Promise<(R | ItemFailure)[]> => {
    if (items.length === 1) return [await one(sql, items[0])];
    try {
      return await many(sql, items);
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw err;
      return await Promise.all(items.map((i) => one(sql, i).catch((e) => new ItemFailure(e))));
    }
  };
  return (sql, item) => {
    let batcher = batchers.get(sql);
    if (!batcher) {
      batcher = createTickBatcher((items) => write(sql, items));
      batchers.set(sql, batcher);
    }
    return batcher.add(item);
  };
}
