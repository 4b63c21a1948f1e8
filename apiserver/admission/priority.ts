// The Priority admission plugin (plugin/pkg/admission/priority): a new pod's priorityClassName
// resolves to spec.priority and spec.preemptionPolicy (the global default class, or priority 0,
// when it names none); an update keeps what create resolved; a PriorityClass may be the global
// default only while no other class is.

import type { KubeObject } from '../../lib/api/meta.js';
import type { Pod } from '../../lib/api/core/pod.js';
import {
  DefaultPriorityWhenNoDefaultClassExists,
  type PriorityClass,
} from '../../lib/api/scheduling/priorityclass.js';
import { forbidden, isNotFound } from '../../lib/machinery/status.js';
import type { AdmissionRequest } from '../registry/store.js';

/** PriorityClassReader is the read access the plugin needs (the registry's PriorityClass store). */
export interface PriorityClassReader {
  /** get returns the class or undefined when there is none; other failures throw. */
  get(name: string): Promise<PriorityClass | undefined>;
  /** list returns every class; fresh waits until the cache has every write so far (for rare writes that must see each other). */
  list(opts?: { fresh?: boolean }): Promise<PriorityClass[]>;
}

const podResource = { group: '', resource: 'pods' };
const priorityClassResource = { group: 'scheduling.k8s.io', resource: 'priorityclasses' };

/**
 * defaultPriorityClass is the global default class; if a race left several, the one with the
 * lowest value wins, as in Kubernetes.
 */
export function defaultPriorityClass(classes: readonly PriorityClass[]): PriorityClass | undefined {
  let found: PriorityClass | undefined;
  for (const pc of classes) {
    if (pc.globalDefault && (!found || pc.value < found.value)) found = pc;
  }
  return found;
}

/** admitPod is the plugin's pod half: it sets spec.priority, spec.preemptionPolicy and, for the default class, spec.priorityClassName. */
export async function admitPod(req: AdmissionRequest, classes: PriorityClassReader): Promise<void> {
  const pod = req.object as Pod;
  pod.spec ??= { containers: [] };
  const spec = pod.spec;
  if (req.operation === 'UPDATE') {
    // Create resolved these; validation forbids changing them, so a client that left them out keeps them.
    const old = (req.oldObject as Pod | undefined)?.spec;
    if ((spec.priority === undefined || spec.priority === null) && old?.priority !== undefined) spec.priority = old.priority;
    if ((spec.preemptionPolicy === undefined || spec.preemptionPolicy === null) && old?.preemptionPolicy !== undefined) spec.preemptionPolicy = old.preemptionPolicy;
    return;
  }
  let priority = DefaultPriorityWhenNoDefaultClassExists;
  let policy: string | undefined;
  if (!spec.priorityClassName) {
    const pc = defaultPriorityClass(await classes.list());
    if (pc) {
      spec.priorityClassName = pc.metadata.name;
      priority = pc.value;
      policy = pc.preemptionPolicy;
    }
  } else {
    const pc = await classes.get(spec.priorityClassName);
    if (!pc) throw forbidden(podResource, req.name, `no PriorityClass with name ${spec.priorityClassName} was found`);
    priority = pc.value;
    policy = pc.preemptionPolicy;
  }
  if (spec.priority !== undefined && spec.priority !== null && spec.priority !== priority) {
    throw forbidden(
      podResource,
      req.name,
      `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`,
    );
  }
  spec.priority = priority;
  if (policy) {
    if (spec.preemptionPolicy && spec.preemptionPolicy !== policy) {
      throw forbidden(
        podResource,
        req.name,
        `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`,
      );
    }
    spec.preemptionPolicy = policy;
  }
}

/** admitPriorityClass is the plugin's validating half: only one class may be the global default. */
export async function admitPriorityClass(req: AdmissionRequest, classes: PriorityClassReader): Promise<void> {
  const pc = req.object as PriorityClass;
  if (!pc.globalDefault) return;
  const existing = defaultPriorityClass(await classes.list({ fresh: true }));
  if (!existing) return;
  if (req.operation === 'CREATE' || existing.metadata.name !== pc.metadata.name) {
    throw forbidden(priorityClassResource, req.name, `PriorityClass ${existing.metadata.name} is already marked as default. Only one default can exist`);
  }
}

/** registryPriorityClassReader reads classes through a GenericStore-like get/list. */
export function registryPriorityClassReader(store: {
  get(ns: string | undefined, name: string, resourceVersion?: string): Promise<KubeObject>;
  list(q: { predicate: (o: KubeObject) => boolean; selectorActive: boolean; resourceVersion?: string }): Promise<{ items: KubeObject[] }>;
}): PriorityClassReader {
  return {
    async get(name) {
      // The watch cache answers almost always; a class created a moment ago may not be there yet, so ask etcd before saying no.
      for (const rv of ['0', undefined]) {
        try {
          return (await store.get(undefined, name, rv)) as PriorityClass;
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
      return undefined;
    },
    async list(opts) {
      return (await store.list({ predicate: () => true, selectorActive: false, resourceVersion: opts?.fresh ? undefined : '0' })).items as PriorityClass[];
    },
  };
}
