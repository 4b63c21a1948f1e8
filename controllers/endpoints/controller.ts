// Placeholder: the endpoints controller is not written yet.
import type { ControllerStarter } from '../context.js';

/** startEndpointsController starts the endpoints controller. */
export const startEndpointsController: ControllerStarter = () => [];
