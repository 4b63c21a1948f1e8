#!/usr/bin/env node
// Placeholder for the scheduler process: serves health and waits.
import { runComponent } from '../lib/process/component.js';

runComponent({
  name: 'skiff-scheduler',
  summary: 'skiff scheduler (not written yet).',
  defaultPort: 10259,
  userAgent: 'skiff-scheduler',
  flags: [{ name: 'nodes', description: 'unused', default: '0' }],
  run: ({ signal }) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
});
