// Placeholder: the garbagecollector controller is not written yet.
import type { ControllerStarter } from '../context.js';

/** startGarbageCollector starts the garbagecollector controller. */
export const startGarbageCollector: ControllerStarter = () => [];
