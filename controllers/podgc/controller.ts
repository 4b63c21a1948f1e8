// Placeholder: the podgc controller is not written yet.
import type { ControllerStarter } from '../context.js';

/** startPodGCController starts the podgc controller. */
export const startPodGCController: ControllerStarter = () => [];
