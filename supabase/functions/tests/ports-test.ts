import { freePorts, STACK_PORT_RANGE } from "../../../scripts/stack/ports.ts";

function assert(ok: boolean, what: string) {
  if (!ok) throw new Error(what);
}

Deno.test("a test stack's ports are free, distinct, and outside the OS's ephemeral range", () => {
  // The ephemeral range (port-0 listeners, outgoing connections) must not be able to take a stack
  // port between its choice and its bind.
  const [low] = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range").trim().split(/\s+/)
    .map(Number);
  for (let i = 0; i < 50; i++) {
    const ports = Object.values(freePorts());
    assert(new Set(ports).size === 4, `distinct: ${ports}`);
    for (const port of ports) {
      assert(port >= STACK_PORT_RANGE.from && port < STACK_PORT_RANGE.to, `${port}`);
      assert(port < low, `${port} is in the ephemeral range (from ${low})`);
    }
  }
});
