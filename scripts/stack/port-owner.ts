/**
 * Which process listens on a TCP port, from /proc (Linux): the socket's inode in
 * /proc/net/tcp{,6}, then the process holding that inode among its file descriptors. Elsewhere,
 * or for another user's process, it says so instead of guessing.
 */
export async function describePortOwner(port: number): Promise<string> {
  const inodes = await listeningInodes(port);
  if (inodes.size === 0) return "another process";
  try {
    for await (const proc of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(proc.name)) continue;
      if (await holdsSocket(proc.name, inodes)) return await describeProcess(proc.name);
    }
  } catch {
    // /proc unreadable: fall through to the generic answer
  }
  return "another process (not visible to this user)";
}

async function listeningInodes(port: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = await Deno.readTextFile(table);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      // cols[1] local address "IP:PORT", cols[3] state (0A = LISTEN), cols[9] inode
      if (cols.length > 9 && cols[1].endsWith(`:${hexPort}`) && cols[3] === "0A") {
        inodes.add(cols[9]);
      }
    }
  }
  return inodes;
}

async function holdsSocket(pid: string, inodes: Set<string>): Promise<boolean> {
  try {
    for await (const fd of Deno.readDir(`/proc/${pid}/fd`)) {
      const target = await Deno.readLink(`/proc/${pid}/fd/${fd.name}`).catch(() => "");
      const m = target.match(/^socket:\[(\d+)\]$/);
      if (m && inodes.has(m[1])) return true;
    }
  } catch {
    // another user's process, or it just exited
  }
  return false;
}

async function describeProcess(pid: string): Promise<string> {
  const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => "");
  const command = cmdline.split("\0").filter(Boolean).join(" ");
  const short = command.length > 120 ? `${command.slice(0, 117)}...` : command;
  return `pid ${pid}${short ? ` (${short})` : ""}`;
}
