// Placeholder: the deployment controller is not written yet.
import type { ControllerStarter } from '../context.js';

/** startDeploymentController starts the deployment controller. */
export const startDeploymentController: ControllerStarter = () => [];
