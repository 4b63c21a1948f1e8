// Placeholder: the endpointslice controller is not written yet.
import type { ControllerStarter } from '../context.js';

/** startEndpointSliceController starts the endpointslice controller. */
export const startEndpointSliceController: ControllerStarter = () => [];
