// Helpers the workload controllers share: pod predicates and the scale-down order, claiming
// children through controller ownerReferences, and create/delete expectations.
export * from './pods.js';
export * from './controllerref.js';
export * from './expectations.js';
