// A write load for the tests that kill control-plane members: objects created one after another
// until stopped, every acknowledged name kept, so that a test can check afterwards that none was
// lost.

/** WriteLoad is a running loop of creates: the names acknowledged so far, the failures, and stop(). */
export interface WriteLoad {
  acknowledged: string[];
  failures: string[];
  /** stop ends the loop after the create in flight and waits for it. */
  stop(): Promise<void>;
}

/**
 * startWriteLoad calls create(name, seq) for `<prefix><seq>` one after another until stop(): a
 * name whose create resolves is acknowledged, one whose create throws is a failure with its message.
 */
export function startWriteLoad(create: (name: string, seq: number) => Promise<unknown>, prefix = 'cm-'): WriteLoad {
  const acknowledged: string[] = [];
  const failures: string[] = [];
  let writing = true;
  let seq = 0;
  const loop = (async () => {
    while (writing) {
      const name = `${prefix}${seq++}`;
      try {
        await create(name, seq);
        acknowledged.push(name);
      } catch (err) {
        failures.push(`${name}: ${(err as Error).message}`);
      }
    }
  })();
  return {
    acknowledged,
    failures,
    stop: async () => {
      writing = false;
      await loop;
    },
  };
}
