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

/**
 * Where freePorts looks: below Linux's ephemeral range (32768–60999 by default), from which the
 * OS picks every port-0 listener (freePort, the functions' internal ports) and every outgoing
 * connection's local port. A stack port taken from that range could be handed to one of those
 * between its choice and its bind, while the stack starts: a test's stack then failed to start
 * with AddrInUse on its console port (seen in CI).
 */
export const STACK_PORT_RANGE = { from: 20_000, to: 32_000 } as const;

/** Four distinct free ports, for a stack that must not collide with a running `npm start`. */
export function freePorts(): StackPorts {
  const ports = new Set<number>();
  for (let tries = 0; ports.size < 4; tries++) {
    if (tries > 2_000) throw new Error("no 4 free ports between 20000 and 32000 on 127.0.0.1");
    const { from, to } = STACK_PORT_RANGE;
    const port = from + Math.floor(Math.random() * (to - from));
    if (!ports.has(port) && isFree(port)) ports.add(port);
  }
  const [functions, db, console, sandbox] = [...ports];
  return { functions, db, console, sandbox };
}
