#!/usr/bin/env node
// Placeholder for the sim process: serves health and waits.
import { runComponent } from '../lib/process/component.js';

runComponent({
  name: 'skiff-sim',
  summary: 'skiff sim (not written yet).',
  defaultPort: 10259,
  userAgent: 'skiff-sim',
  flags: [{ name: 'nodes', description: 'unused', default: '0' }],
  run: ({ signal }) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
});
