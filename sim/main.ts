#!/usr/bin/env node
// skiff-sim: the kubelet of every simulated Node, without containers. It creates --nodes Nodes
// (sim-0 …), also takes on any Node a user creates with the annotation skiff.dev/simulated:
// "true", keeps their Leases and status fresh, and reports the pods bound to them Running (or
// failing, on request). Only the holder of the kube-system/skiff-node-simulator Lease acts.

import { runComponent } from '../lib/process/component.js';
import { nodeSimulator } from './app.js';
import { ConfigError, parseSimConfig, simFlags } from './config.js';

/**
 * ownFlagValues picks this process's own flags out of argv (the common ones are runComponent's),
 * so bad values stop the process before it asks for the leader Lease, not after.
 */
function ownFlagValues(argv: string[]): Record<string, string> {
  const names = new Set(simFlags.map((f) => f.name));
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([^=]+)(?:=(.*))?$/s.exec(argv[i]!);
    if (!m || !names.has(m[1]!)) continue;
    out[m[1]!] = m[2] ?? argv[++i] ?? '';
  }
  return out;
}

if (!process.argv.includes('--help') && !process.argv.includes('-h')) {
  try {
    parseSimConfig(ownFlagValues(process.argv.slice(2)));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`skiff-sim: ${err.message}\n`);
    process.exit(2);
  }
}

runComponent(nodeSimulator);
