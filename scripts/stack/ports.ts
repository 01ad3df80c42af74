import { describePortOwner } from "./port-owner.ts";

export interface StackPorts {
  functions: number;
  db: number;
  console: number;
  sandbox: number;
}

export const DEFAULT_PORTS: StackPorts = {
  functions: 54321,
  db: 54322,
  console: 54323,
  sandbox: 54324,
};

export class PortInUseError extends Error {
  constructor(readonly taken: { name: string; port: number; owner: string }[]) {
    super(
      taken.map((t) => `port ${t.port} (${t.name}) is already in use by ${t.owner}`).join("\n") +
        "\nStop that process (or the other `npm start`) and try again.",
    );
    this.name = "PortInUseError";
  }
}

function isFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) return false;
    throw err;
  }
}

/** Every wanted port must be free before anything starts; all the taken ones are named at once. */
export async function assertPortsFree(wanted: { name: string; port: number }[]): Promise<void> {
  const taken = [];
  for (const w of wanted) {
    if (!isFree(w.port)) taken.push({ ...w, owner: await describePortOwner(w.port) });
  }
  if (taken.length) throw new PortInUseError(taken);
}

/** A port the OS reports free on 127.0.0.1 right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Four distinct free ports, for a stack that must not collide with a running `npm start`. */
export function freePorts(): StackPorts {
  const ports = new Set<number>();
  while (ports.size < 4) ports.add(freePort());
  const [functions, db, console, sandbox] = [...ports];
  return { functions, db, console, sandbox };
}
