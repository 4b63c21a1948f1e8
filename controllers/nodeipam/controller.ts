// Placeholder: the nodeipam controller is not written yet.
import type { ControllerStarter } from '../context.js';

/** startNodeIpamController starts the nodeipam controller. */
export const startNodeIpamController: ControllerStarter = () => [];
