#!/usr/bin/env node
// skiff-controller-manager: every built-in controller in one process, as kube-controller-manager.
// Only the holder of the kube-system/kube-controller-manager Lease runs them; the others wait.

import { runComponent } from '../lib/process/component.js';
import { controllerManager } from './app.js';

runComponent(controllerManager);
