// Helpers the workload controllers share: pod predicates and the scale-down order, claiming
// children through controller ownerReferences, create/delete expectations, and the API errors
// controllers read alike.
export * from './pods.js';
export * from './controllerref.js';
export * from './expectations.js';
export * from './errors.js';
