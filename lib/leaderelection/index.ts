// Leader election on a coordination.k8s.io/v1 Lease.
export {
  type LeaderCallbacks,
  type LeaderElectionConfig,
  type LeaderElectionRecord,
  type LeaseClient,
  LeaderElectionConfigError,
  LeaderElector,
  defaultIdentity,
  leaseClientFor,
  recordOf,
  runLeaderElection,
} from './leaderelection.js';
