// builtinResources lists every kind the apiserver serves out of the box, in discovery order.

import type { ResourceDefinition } from './resource.js';
import { namespaces } from './core/namespace.js';
import { pods } from './core/pod.js';
import { services } from './core/service.js';
import { nodes } from './core/node.js';
import { configMaps } from './core/configmap.js';
import { secrets } from './core/secret.js';
import { serviceAccounts } from './core/serviceaccount.js';
import { endpoints } from './core/endpoints.js';
import { coreEvents } from './core/event.js';
import { deployments } from './apps/deployment.js';
import { replicaSets } from './apps/replicaset.js';
import { jobs } from './batch/job.js';
import { cronJobs } from './batch/cronjob.js';
import { endpointSlices } from './discovery/endpointslice.js';
import { leases } from './coordination/lease.js';
import { priorityClasses } from './scheduling/priorityclass.js';
import { eventsV1 } from './events/event.js';
import { customResourceDefinitions } from './apiextensions/customresourcedefinition.js';
import { localSubjectAccessReviews, selfSubjectAccessReviews, selfSubjectRulesReviews, subjectAccessReviews } from './authorization/selfsubjectaccessreview.js';
import { clusterRoleBindings, clusterRoles, roleBindings, roles } from './rbac/rbac.js';
import { selfSubjectReviews } from './authentication/selfsubjectreview.js';
import { certificateSigningRequests } from './certificates/certificatesigningrequest.js';
import { tokenReviews } from './authentication/tokenreview.js';

export const builtinResources: ResourceDefinition<any>[] = [
  configMaps,
  endpoints,
  coreEvents,
  namespaces,
  nodes,
  pods,
  secrets,
  serviceAccounts,
  services,
  deployments,
  replicaSets,
  jobs,
  cronJobs,
  endpointSlices,
  leases,
  priorityClasses,
  eventsV1,
  selfSubjectAccessReviews,
  selfSubjectRulesReviews,
  localSubjectAccessReviews,
  subjectAccessReviews,
  selfSubjectReviews,
  certificateSigningRequests,
  clusterRoleBindings,
  clusterRoles,
  roleBindings,
  roles,
  tokenReviews,
  customResourceDefinitions,
];

export { namespaces, pods, services, nodes, configMaps, secrets, serviceAccounts, endpoints, coreEvents, deployments, replicaSets, endpointSlices, leases, eventsV1, customResourceDefinitions, priorityClasses, certificateSigningRequests, jobs, cronJobs };
