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
import { limitRanges } from './core/limitrange.js';
import { resourceQuotas } from './core/resourcequota.js';
import { deployments } from './apps/deployment.js';
import { replicaSets } from './apps/replicaset.js';
import { controllerRevisions } from './apps/controllerrevision.js';
import { statefulSets } from './apps/statefulset.js';
import { daemonSets } from './apps/daemonset.js';
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
import { persistentVolumes } from './core/persistentvolume.js';
import { persistentVolumeClaims } from './core/persistentvolumeclaim.js';
import { storageClasses } from './storage/storageclass.js';
import { horizontalPodAutoscalers } from './autoscaling/hpa.js';
import { horizontalPodAutoscalersV1 } from './autoscaling/hpav1.js';
import { replicationControllers } from './core/replicationcontroller.js';
import { podDisruptionBudgets } from './policy/poddisruptionbudget.js';

export const builtinResources: ResourceDefinition<any>[] = [
  configMaps,
  endpoints,
  coreEvents,
  limitRanges,
  namespaces,
  nodes,
  persistentVolumeClaims,
  persistentVolumes,
  pods,
  resourceQuotas,
  secrets,
  serviceAccounts,
  services,
  replicationControllers,
  deployments,
  replicaSets,
  controllerRevisions,
  // autoscaling/v2 first: discovery's preferred version is the first one served.
  horizontalPodAutoscalers,
  horizontalPodAutoscalersV1,
  statefulSets,
  daemonSets,
  jobs,
  cronJobs,
  endpointSlices,
  podDisruptionBudgets,
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
  storageClasses,
];

export { namespaces, pods, services, nodes, configMaps, secrets, serviceAccounts, endpoints, coreEvents, deployments, replicaSets, controllerRevisions, endpointSlices, leases, eventsV1, customResourceDefinitions, priorityClasses, certificateSigningRequests, horizontalPodAutoscalers, horizontalPodAutoscalersV1, replicationControllers, podDisruptionBudgets, daemonSets, jobs, cronJobs };
export { statefulSets };
export { persistentVolumes, persistentVolumeClaims, storageClasses };
export { limitRanges, resourceQuotas };
