// skiff/testing: a whole Kubernetes control plane (apiserver, controller manager, scheduler and
// simulated nodes) inside a test's own process, for testing controllers. See README.md, "Testing
// your controller", and examples/widget-controller/.
//
//   import { startCluster } from 'skiff/testing';
//   const cluster = await startCluster({ nodes: 3 });
//   after(() => cluster.stop());
//   await cluster.apply(yaml);

export { startCluster, ClusterStartError, type Cluster, type StartClusterOptions, type LogMode } from './cluster.js';
export { ApplyError, fieldManager, parseManifests, type ApplyInput, type KubernetesObject } from './apply.js';
