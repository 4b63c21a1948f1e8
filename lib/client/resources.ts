// The ResourceTypes skiff's processes write, taken from the same declarations the apiserver
// serves, so a path can never disagree with what is served.

import * as api from '../api/index.js';
import type { ResourceDefinition } from '../api/resource.js';
import { nodeMetrics, podMetrics } from '../api/metrics/metrics.js';
import type { ResourceType } from './client.js';

/** resourceTypeOf is the REST name of a declared resource. */
export function resourceTypeOf(def: Pick<ResourceDefinition, 'group' | 'version' | 'plural' | 'kind' | 'namespaced'>): ResourceType {
  return { group: def.group, version: def.version, resource: def.plural, kind: def.kind, namespaced: def.namespaced };
}

export const Pods = resourceTypeOf(api.pods);
export const Nodes = resourceTypeOf(api.nodes);
export const Namespaces = resourceTypeOf(api.namespaces);
export const Services = resourceTypeOf(api.services);
export const Endpoints = resourceTypeOf(api.endpoints);
export const ServiceAccounts = resourceTypeOf(api.serviceAccounts);
export const ConfigMaps = resourceTypeOf(api.configMaps);
export const Secrets = resourceTypeOf(api.secrets);
export const CoreEvents = resourceTypeOf(api.coreEvents);
export const LimitRanges = resourceTypeOf(api.limitRanges);
export const ResourceQuotas = resourceTypeOf(api.resourceQuotas);
export const Deployments = resourceTypeOf(api.deployments);
export const ReplicaSets = resourceTypeOf(api.replicaSets);
export const ControllerRevisions = resourceTypeOf(api.controllerRevisions);
export const HorizontalPodAutoscalers = resourceTypeOf(api.horizontalPodAutoscalers);
export const PodMetricsResource = resourceTypeOf(podMetrics);
export const NodeMetricsResource = resourceTypeOf(nodeMetrics);
export const StatefulSets = resourceTypeOf(api.statefulSets);
export const ReplicationControllers = resourceTypeOf(api.replicationControllers);
export const PodDisruptionBudgets = resourceTypeOf(api.podDisruptionBudgets);
export const DaemonSets = resourceTypeOf(api.daemonSets);
export const Jobs = resourceTypeOf(api.jobs);
export const CronJobs = resourceTypeOf(api.cronJobs);
export const EndpointSlices = resourceTypeOf(api.endpointSlices);
export const Leases = resourceTypeOf(api.leases);
export const CustomResourceDefinitions = resourceTypeOf(api.customResourceDefinitions);
export const PriorityClasses = resourceTypeOf(api.priorityClasses);
export const CertificateSigningRequests = resourceTypeOf(api.certificateSigningRequests);
export const PersistentVolumes = resourceTypeOf(api.persistentVolumes);
export const PersistentVolumeClaims = resourceTypeOf(api.persistentVolumeClaims);
export const StorageClasses = resourceTypeOf(api.storageClasses);
