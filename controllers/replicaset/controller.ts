// Placeholder: the replicaset controller is not written yet.
import type { ControllerStarter } from '../context.js';

/** startReplicaSetController starts the replicaset controller. */
export const startReplicaSetController: ControllerStarter = () => [];
