// The in-tree plugin registry: each plugin's factory and the extension points it implements
// (configuration expands multiPoint with these). Names are kube-scheduler's.

import type { Framework, Registry } from '../framework/framework.js';
import { NodeResourcesBalancedAllocationName, type NodeResourcesBalancedAllocationArgs, newNodeResourcesBalancedAllocation } from './balancedallocation.js';
import { InterPodAffinityName, type InterPodAffinityArgs, newInterPodAffinity } from './interpodaffinity.js';
import { NodeAffinityName, type NodeAffinityArgs, newNodeAffinity } from './nodeaffinity.js';
import { NodeNameName, newNodeName } from './nodename.js';
import { NodePortsName, newNodePorts } from './nodeports.js';
import { NodeResourcesFitName, type NodeResourcesFitArgs, newNodeResourcesFit } from './noderesourcesfit.js';
import { NodeUnschedulableName, newNodeUnschedulable } from './nodeunschedulable.js';
import { PodTopologySpreadName, type PodTopologySpreadArgs, newPodTopologySpread } from './podtopologyspread.js';
import { TaintTolerationName, newTaintToleration } from './tainttoleration.js';
import { VolumeBindingName, newVolumeBinding, noVolumes } from './volumebinding.js';

export { VolumeBindingName };

/** ExtensionPoint names the points a profile configures. */
export type ExtensionPoint = 'preFilter' | 'filter' | 'postFilter' | 'preScore' | 'score';

/** DefaultPreemptionName is the PostFilter plugin the scheduler process registers (preemption lives outside the plugin folder). */
export const DefaultPreemptionName = 'DefaultPreemption';


/** PluginInfo is what configuration needs to know about a plugin without building it. */
export interface PluginInfo {
  points: readonly ExtensionPoint[];
}

/** pluginInfo lists every plugin a configuration may name, in-tree or provided by the scheduler process. */
export const pluginInfo: Readonly<Record<string, PluginInfo>> = Object.freeze({
  [NodeUnschedulableName]: { points: ['filter'] },
  [NodeNameName]: { points: ['filter'] },
  [TaintTolerationName]: { points: ['filter', 'preScore', 'score'] },
  [NodeAffinityName]: { points: ['preFilter', 'filter', 'preScore', 'score'] },
  [NodePortsName]: { points: ['preFilter', 'filter'] },
  [NodeResourcesFitName]: { points: ['preFilter', 'filter', 'preScore', 'score'] },
  [PodTopologySpreadName]: { points: ['preFilter', 'filter', 'preScore', 'score'] },
  [InterPodAffinityName]: { points: ['preFilter', 'filter', 'preScore', 'score'] },
  [NodeResourcesBalancedAllocationName]: { points: ['preScore', 'score'] },
  [VolumeBindingName]: { points: ['preFilter', 'filter'] },
  [DefaultPreemptionName]: { points: ['postFilter'] },
});

/** inTreeRegistry builds the plugins of this folder from their (validated) args. */
export const inTreeRegistry: Registry = Object.freeze({
  [NodeUnschedulableName]: () => newNodeUnschedulable(),
  [NodeNameName]: () => newNodeName(),
  [TaintTolerationName]: () => newTaintToleration(),
  [NodeAffinityName]: (args: unknown) => newNodeAffinity((args ?? {}) as NodeAffinityArgs),
  [NodePortsName]: () => newNodePorts(),
  [NodeResourcesFitName]: (args: unknown) => newNodeResourcesFit((args ?? {}) as NodeResourcesFitArgs),
  [PodTopologySpreadName]: (args: unknown, fh: Framework) => newPodTopologySpread((args ?? {}) as PodTopologySpreadArgs, fh),
  [InterPodAffinityName]: (args: unknown, fh: Framework) => newInterPodAffinity((args ?? {}) as InterPodAffinityArgs, fh),
  [NodeResourcesBalancedAllocationName]: (args: unknown) => newNodeResourcesBalancedAllocation((args ?? {}) as NodeResourcesBalancedAllocationArgs),
  // Without the scheduler's caches (a framework built outside it) no claim exists.
  [VolumeBindingName]: () => newVolumeBinding(noVolumes),
});
