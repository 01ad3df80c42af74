/** Calls `onLine` for each line of a byte stream as it arrives (a child's stdout, say). */
export async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    const lines = buffered.split(/\r?\n/);
    buffered = lines.pop()!;
    for (const line of lines) if (line.trim()) onLine(line);
  }
  if (buffered.trim()) onLine(buffered);
}
