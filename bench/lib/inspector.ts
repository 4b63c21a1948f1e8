// Forcing a full garbage collection in another Node process through its inspector, so a memory
// figure taken from its RSS measures what it retains rather than when V8 last collected.
// The benchmark starts the apiserver with `--inspect=127.0.0.1:<port>` for this alone.

import WebSocket from 'ws';

/** inspectorTarget is the first debuggee's WebSocket URL on a local inspector port. */
async function inspectorTarget(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/json/list`);
  const targets = (await res.json()) as { webSocketDebuggerUrl?: string }[];
  const url = targets.find((t) => t.webSocketDebuggerUrl)?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on port ${port}`);
  return url;
}

/**
 * collectGarbage asks the process behind the inspector port for a full GC (twice, so objects
 * freed by the first one's finalizers go too) and resolves when it is done. It attaches a
 * session only for the call, so the process runs undisturbed otherwise.
 */
export async function collectGarbage(port: number, timeoutMs = 10_000): Promise<void> {
  const ws = new WebSocket(await inspectorTarget(port));
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    let id = 0;
    const call = (method: string) =>
      new Promise<void>((resolve, reject) => {
        const my = ++id;
        const timer = setTimeout(() => reject(new Error(`inspector: ${method} timed out`)), timeoutMs);
        const onMessage = (data: WebSocket.RawData) => {
          const msg = JSON.parse(data.toString()) as { id?: number; error?: { message: string } };
          if (msg.id !== my) return;
          clearTimeout(timer);
          ws.off('message', onMessage);
          if (msg.error) reject(new Error(`inspector: ${method}: ${msg.error.message}`));
          else resolve();
        };
        ws.on('message', onMessage);
        ws.send(JSON.stringify({ id: my, method }));
      });
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
  } finally {
    ws.close();
  }
}
