import { z } from "zod";

/**
 * Fault injection: the next `count` requests to a provider fail with a status and body, or are
 * answered late. Without `count` a fault holds until cleared; mode "ok" clears the provider's.
 */
export const FaultSchema = z.object({
  provider: z.string().min(1),
  mode: z.enum(["fail", "slow", "ok"]),
  status: z.number().int().min(100).max(599).optional(),
  body: z.unknown().optional(),
  delay_ms: z.number().int().min(0).max(120_000).optional(),
  count: z.number().int().min(1).optional(),
});

export type Fault = z.infer<typeof FaultSchema>;

export class FaultBook {
  #faults = new Map<string, Fault & { remaining: number }>();

  set(fault: Fault): void {
    if (fault.mode === "ok") this.#faults.delete(fault.provider);
    else this.#faults.set(fault.provider, { ...fault, remaining: fault.count ?? Infinity });
  }

  /** The fault that applies to this request, if any, counting it as used. */
  take(provider: string): Fault | undefined {
    const fault = this.#faults.get(provider);
    if (!fault) return undefined;
    if (--fault.remaining <= 0) this.#faults.delete(provider);
    return fault;
  }

  list(): (Fault & { remaining: number | null })[] {
    return [...this.#faults.values()].map((f) => ({
      ...f,
      remaining: Number.isFinite(f.remaining) ? f.remaining : null,
    }));
  }

  clear(): void {
    this.#faults.clear();
  }
}
