// Placeholder: the namespace controller is not written yet.
import type { ControllerStarter } from '../context.js';

/** startNamespaceController starts the namespace controller. */
export const startNamespaceController: ControllerStarter = () => [];
