#!/usr/bin/env node
// supervise-main is `skiff supervise` as an entry point of its own, the one `skiff up` starts
// (lib/process/daemon.ts). The supervisor runs as long as the cluster does; through cli/main.ts
// it would also load every other command and the whole of @kubernetes/client-node with them:
// about 40 MiB of heap it never uses (npm run bench -- footprint --heap=1).

import { superviseCommand } from './supervise.js';

superviseCommand.run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`error: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
