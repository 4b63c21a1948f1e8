#!/usr/bin/env node
// skiff-sim: the kubelet of every simulated Node, without containers. It creates --nodes Nodes
// (sim-0 …), also takes on any Node a user creates with the annotation skiff.dev/simulated:
// "true", keeps their Leases and status fresh, and reports the pods bound to them Running (or
// failing, on request). Only the holder of the kube-system/skiff-node-simulator Lease acts.

import { runComponent } from '../lib/process/component.js';
import { nodeSimulator } from './app.js';
import { ConfigError, parseSimConfig, simFlags } from './config.js';
import { pickFlags } from '../lib/flags.js';

// Bad values stop the process before it asks for the leader Lease, not after.
if (!process.argv.includes('--help') && !process.argv.includes('-h')) {
  try {
    parseSimConfig(pickFlags(process.argv.slice(2), simFlags));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`skiff-sim: ${err.message}\n`);
    process.exit(2);
  }
}

runComponent(nodeSimulator);
