// Placeholder: the serviceaccount controller is not written yet.
import type { ControllerStarter } from '../context.js';

/** startServiceAccountController starts the serviceaccount controller. */
export const startServiceAccountController: ControllerStarter = () => [];
