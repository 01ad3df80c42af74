/**
 * Groups the writes of concurrent requests into one statement per event-loop turn: `add` queues
 * an item and resolves once the batch holding it has been written (committed), or rejects with
 * that batch's error — a failed batch fails every request in it, which is safe because each
 * write is idempotent and the provider retries what was not acknowledged.
 *
 * A batch closes at the end of the turn that opened it (a macrotask), so requests whose bodies
 * were read in the same turn share one round trip and one commit. Batches are capped at
 * `maxItems`; while one is being written the next one fills.
 */
export interface TickBatcher<T> {
  add(item: T): Promise<void>;
}

export function createTickBatcher<T>(
  write: (items: T[]) => Promise<void>,
  opts: { maxItems?: number } = {},
): TickBatcher<T> {
  const maxItems = opts.maxItems ?? 500;
  let open: { items: T[]; waiters: { resolve(): void; reject(e: unknown): void }[] } | null = null;

  const flush = (batch: NonNullable<typeof open>) => {
    if (open === batch) open = null;
    write(batch.items).then(
      () => batch.waiters.forEach((w) => w.resolve()),
      (err) => batch.waiters.forEach((w) => w.reject(err)),
    );
  };

  return {
    add(item) {
      return new Promise<void>((resolve, reject) => {
        if (!open) {
          const batch = { items: [] as T[], waiters: [] as { resolve(): void; reject(e: unknown): void }[] };
          open = batch;
          setTimeout(() => flush(batch), 0);
        }
        open.items.push(item);
        open.waiters.push({ resolve, reject });
        if (open.items.length >= maxItems) flush(open);
      });
    },
  };
}
