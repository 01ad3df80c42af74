/**
 * Work that runs after the response is sent (the AI reply after a webhook's 200). On Supabase it
 * is `EdgeRuntime.waitUntil`; in tests and the local stack a tracker whose `settled()` lets a
 * test wait for it. Either way the work was made durable first, so losing it loses nothing: the
 * retry path picks up what stayed pending.
 */
export type WaitUntil = (work: Promise<unknown>) => void;

export function backgroundTracker(onError: (err: unknown) => void = () => {}) {
  const pending = new Set<Promise<unknown>>();
  const waitUntil: WaitUntil = (work) => {
    const p = work.catch(onError).finally(() => pending.delete(p));
    pending.add(p);
  };
  return {
    waitUntil,
    /** Resolves once every piece of background work started so far (and any it started) is done. */
    async settled(): Promise<void> {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
