// Placeholder: the nodelifecycle controller is not written yet.
import type { ControllerStarter } from '../context.js';

/** startNodeLifecycleController starts the nodelifecycle controller. */
export const startNodeLifecycleController: ControllerStarter = () => [];
