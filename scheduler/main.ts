#!/usr/bin/env node
// skiff-scheduler: binds pending pods to nodes, one leader at a time (Lease kube-system/kube-scheduler),
// with one scheduling profile per schedulerName from the --config file.

import { runComponent } from '../lib/process/component.js';
import { scheduler } from './app.js';

runComponent(scheduler);
