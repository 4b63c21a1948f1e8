// The scheduler's configuration file, in the spirit of KubeSchedulerConfiguration
// (kubescheduler.config.k8s.io/v1, YAML or JSON): global settings, and profiles whose plugins are
// enabled per extension point (or all at once through multiPoint) with score weights and
// pluginConfig args. Defaulting and merging follow kube's v1 rules (mergePluginSet, multiPoint
// expansion); everything is validated up front and an error names the field, e.g.
// `profiles[0].plugins.score.enabled[0].name: Invalid value: "Foo": unknown plugin`.
//
// skiff's default profile differs from kube's on purpose: NodeResourcesFit scores with
// MostAllocated (bin packing) and NodeResourcesBalancedAllocation is off (see its file).

import { readFileSync } from 'node:fs';
import type { TopologySpreadConstraint } from '../lib/api/core/types.js';
import { isQualifiedName } from '../lib/machinery/validation.js';
import { parse as parseYAML } from 'yaml';
import {
  type FieldError,
  Path,
  duplicate,
  forbiddenField,
  formatFieldErrors,
  invalidValue,
  notSupported,
  required,
} from '../lib/machinery/field-errors.js';
import { type Framework, type FrameworkOptions, type FrameworkProfile, newFramework, type Registry, type ScorePluginRef } from './framework/framework.js';
import { NodeResourcesBalancedAllocationName } from './plugins/balancedallocation.js';
import { InterPodAffinityName } from './plugins/interpodaffinity.js';
import { NodeAffinityName } from './plugins/nodeaffinity.js';
import { NodeNameName } from './plugins/nodename.js';
import { NodePortsName } from './plugins/nodeports.js';
import { NodeResourcesFitName, ScoringStrategyType } from './plugins/noderesourcesfit.js';
import { NodeUnschedulableName } from './plugins/nodeunschedulable.js';
import { PodTopologySpreadName } from './plugins/podtopologyspread.js';
import { DefaultPreemptionName, type ExtensionPoint, VolumeBindingName, inTreeRegistry, pluginInfo } from './plugins/registry.js';
import { TaintTolerationName } from './plugins/tainttoleration.js';

/** SchedulerConfigAPIVersion and SchedulerConfigKind identify the file. */
export const SchedulerConfigAPIVersion = 'kubescheduler.config.k8s.io/v1';
export const SchedulerConfigKind = 'KubeSchedulerConfiguration';
/** DefaultSchedulerName is the schedulerName of pods that name none (v1.DefaultSchedulerName). */
export const DefaultSchedulerName = 'default-scheduler';

/** SchedulerConfig is the loaded, defaulted and validated configuration. */
export interface SchedulerConfig {
  /** percentageOfNodesToScore is the global sampling setting; 0 means adaptive. */
  percentageOfNodesToScore: number;
  podInitialBackoffSeconds: number;
  podMaxBackoffSeconds: number;
  parallelism: number;
  /** leaderElection and clientConnection are passed through as written (the process flags own them). */
  leaderElection?: Record<string, unknown>;
  clientConnection?: Record<string, unknown>;
  profiles: FrameworkProfile[];
}

/** SchedulerConfigError is an unreadable or invalid configuration; the message names the fields. */
export class SchedulerConfigError extends Error {
  constructor(
    message: string,
    readonly fieldErrors: FieldError[] = [],
  ) {
    super(message);
    this.name = 'SchedulerConfigError';
  }
}

// ---------------------------------------------------------------------------------------------
// Defaults

/** defaultMultiPoint is the default profile's plugins, in kube's order, with kube's default weights. */
const defaultMultiPoint: readonly ScorePluginRef[] = Object.freeze([
  { name: NodeUnschedulableName, weight: 0 },
  { name: NodeNameName, weight: 0 },
  { name: TaintTolerationName, weight: 3 },
  { name: NodeAffinityName, weight: 2 },
  { name: NodePortsName, weight: 0 },
  { name: NodeResourcesFitName, weight: 1 },
  { name: VolumeBindingName, weight: 0 },
  { name: PodTopologySpreadName, weight: 2 },
  { name: InterPodAffinityName, weight: 2 },
  { name: DefaultPreemptionName, weight: 0 },
  // NodeResourcesBalancedAllocation (kube weight 1) is left out: it scores empty nodes highest
  // and would undo MostAllocated's bin packing.
]);

/** defaultPluginConfig is each configurable plugin's default args. */
function defaultPluginConfig(): Record<string, unknown> {
  return {
    [NodeResourcesFitName]: {
      scoringStrategy: {
        type: ScoringStrategyType.MostAllocated,
        resources: [
          { name: 'cpu', weight: 1 },
          { name: 'memory', weight: 1 },
        ],
      },
    },
    [InterPodAffinityName]: { hardPodAffinityWeight: 1, ignorePreferredTermsOfExistingPods: false },
    [NodeAffinityName]: {},
    [PodTopologySpreadName]: { defaultingType: 'System' },
    [NodeResourcesBalancedAllocationName]: {
      resources: [
        { name: 'cpu', weight: 1 },
        { name: 'memory', weight: 1 },
      ],
    },
    [DefaultPreemptionName]: { minCandidateNodesPercentage: 10, minCandidateNodesAbsolute: 100 },
  };
}

/** defaultProfile is the profile used when the configuration names none. */
export function defaultProfile(schedulerName = DefaultSchedulerName): FrameworkProfile {
  const errs: FieldError[] = [];
  const p = resolveProfile({ schedulerName }, new Path('profiles').index(0), errs);
  if (errs.length) throw new SchedulerConfigError(formatFieldErrors(errs, { withField: true }), errs);
  return p;
}

/** defaultSchedulerConfig is the configuration without a file. */
export function defaultSchedulerConfig(): SchedulerConfig {
  return { percentageOfNodesToScore: 0, podInitialBackoffSeconds: 1, podMaxBackoffSeconds: 10, parallelism: 16, profiles: [defaultProfile()] };
}

// ---------------------------------------------------------------------------------------------
// Loading

/** loadSchedulerConfig reads the file at path (YAML or JSON); without a path it returns the defaults. */
export function loadSchedulerConfig(path?: string): SchedulerConfig {
  if (!path) return defaultSchedulerConfig();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SchedulerConfigError(`reading scheduler configuration ${path}: ${(err as Error).message}`);
  }
  return parseSchedulerConfig(text, path);
}

/** parseSchedulerConfig parses, defaults and validates configuration text; source names it in errors. */
export function parseSchedulerConfig(text: string, source = 'configuration'): SchedulerConfig {
  let raw: unknown;
  try {
    raw = parseYAML(text);
  } catch (err) {
    throw new SchedulerConfigError(`decoding ${source}: ${(err as Error).message}`);
  }
  const errs: FieldError[] = [];
  const cfg = resolveConfig(raw, errs);
  if (errs.length > 0) throw new SchedulerConfigError(`invalid scheduler configuration in ${source}: ${formatFieldErrors(errs, { withField: true })}`, errs);
  return cfg;
}

/** buildFramework builds the Framework of a profile from the in-tree plugins plus opts.registry (DefaultPreemption comes from there). */
export function buildFramework(profile: FrameworkProfile, opts: FrameworkOptions & { registry?: Registry } = {}): Framework {
  return newFramework(profile, { ...inTreeRegistry, ...(opts.registry ?? {}) }, opts);
}

// ---------------------------------------------------------------------------------------------
// Validation helpers

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkFields(o: Obj, path: Path, allowed: readonly string[], errs: FieldError[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) errs.push(forbiddenField(path.child(k), 'unknown field'));
  }
}

function asObject(v: unknown, path: Path, errs: FieldError[]): Obj | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) {
    errs.push(invalidValue(path, v, 'must be an object'));
    return undefined;
  }
  return v;
}

function asArray(v: unknown, path: Path, errs: FieldError[]): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    errs.push(invalidValue(path, v, 'must be a list'));
    return [];
  }
  return v;
}

function intIn(v: unknown, path: Path, min: number, max: number, errs: FieldError[], detail?: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    errs.push(invalidValue(path, v, detail ?? `not in valid range [${min}-${max}]`));
    return undefined;
  }
  return v;
}

function str(v: unknown, path: Path, errs: FieldError[]): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') {
    errs.push(invalidValue(path, v, 'must be a string'));
    return undefined;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// The configuration

const topLevelFields = [
  'apiVersion',
  'kind',
  'parallelism',
  'leaderElection',
  'clientConnection',
  'healthzBindAddress',
  'metricsBindAddress',
  'enableProfiling',
  'enableContentionProfiling',
  'percentageOfNodesToScore',
  'podInitialBackoffSeconds',
  'podMaxBackoffSeconds',
  'profiles',
  'extenders',
  'delayCacheUntilActive',
];

function resolveConfig(raw: unknown, errs: FieldError[]): SchedulerConfig {
  const cfg = defaultSchedulerConfig();
  const root = new Path('');
  if (!isObject(raw)) {
    errs.push(invalidValue('', raw === undefined ? null : raw, `must be a ${SchedulerConfigKind} object`));
    return cfg;
  }
  checkFields(raw, root, topLevelFields, errs);
  if (raw.apiVersion === undefined) errs.push(required('apiVersion'));
  else if (raw.apiVersion !== SchedulerConfigAPIVersion) errs.push(notSupported('apiVersion', raw.apiVersion, [SchedulerConfigAPIVersion]));
  if (raw.kind === undefined) errs.push(required('kind'));
  else if (raw.kind !== SchedulerConfigKind) errs.push(notSupported('kind', raw.kind, [SchedulerConfigKind]));
  cfg.percentageOfNodesToScore = intIn(raw.percentageOfNodesToScore, new Path('percentageOfNodesToScore'), 0, 100, errs) ?? 0;
  cfg.parallelism = intIn(raw.parallelism, new Path('parallelism'), 1, 1 << 20, errs, 'should be an integer value greater than zero') ?? 16;
  cfg.podInitialBackoffSeconds = intIn(raw.podInitialBackoffSeconds, new Path('podInitialBackoffSeconds'), 1, 1 << 30, errs, 'must be greater than 0') ?? 1;
  cfg.podMaxBackoffSeconds = intIn(raw.podMaxBackoffSeconds, new Path('podMaxBackoffSeconds'), 1, 1 << 30, errs, 'must be greater than 0') ?? 10;
  if (cfg.podMaxBackoffSeconds < cfg.podInitialBackoffSeconds) {
    errs.push(invalidValue('podMaxBackoffSeconds', cfg.podMaxBackoffSeconds, 'must be greater than or equal to PodInitialBackoffSeconds'));
  }
  if (asArray(raw.extenders, new Path('extenders'), errs).length > 0) errs.push(forbiddenField('extenders', 'extenders are not supported'));
  const le = asObject(raw.leaderElection, new Path('leaderElection'), errs);
  if (le) cfg.leaderElection = le;
  const cc = asObject(raw.clientConnection, new Path('clientConnection'), errs);
  if (cc) cfg.clientConnection = cc;

  const rawProfiles = asArray(raw.profiles, new Path('profiles'), errs);
  if (rawProfiles.length > 0) {
    cfg.profiles = [];
    const names = new Set<string>();
    rawProfiles.forEach((rp, i) => {
      const path = new Path('profiles').index(i);
      const obj = asObject(rp, path, errs) ?? {};
      const p = resolveProfile(obj, path, errs);
      if (names.has(p.schedulerName)) errs.push(duplicate(path.child('schedulerName'), p.schedulerName));
      names.add(p.schedulerName);
      cfg.profiles.push(p);
    });
  }
  return cfg;
}

// ---------------------------------------------------------------------------------------------
// Profiles and plugins

const supportedPoints: readonly ExtensionPoint[] = ['preFilter', 'filter', 'postFilter', 'preScore', 'score'];
/** unsupportedPoints are kube extension points skiff's framework does not run; only their kube defaults may be named. */
const unsupportedPoints: Readonly<Record<string, readonly string[]>> = {
  preEnqueue: ['SchedulingGates'],
  queueSort: ['PrioritySort'],
  reserve: [],
  permit: [],
  preBind: [],
  bind: ['DefaultBinder'],
  postBind: [],
};

interface PluginSet {
  enabled: ScorePluginRef[];
  disabled: string[];
}

function parsePluginSet(raw: unknown, path: Path, point: ExtensionPoint | 'multiPoint', errs: FieldError[]): PluginSet {
  const set: PluginSet = { enabled: [], disabled: [] };
  const o = asObject(raw, path, errs);
  if (!o) return set;
  checkFields(o, path, ['enabled', 'disabled'], errs);
  asArray(o.enabled, path.child('enabled'), errs).forEach((e, i) => {
    const p = path.child('enabled').index(i);
    const eo = asObject(e, p, errs);
    if (!eo) return;
    checkFields(eo, p, ['name', 'weight'], errs);
    const name = str(eo.name, p.child('name'), errs);
    if (!name) {
      if (eo.name === undefined) errs.push(required(p.child('name')));
      return;
    }
    const info = pluginInfo[name];
    if (!info) {
      errs.push(invalidValue(p.child('name'), name, 'unknown plugin'));
      return;
    }
    if (point !== 'multiPoint' && !info.points.includes(point)) {
      errs.push(invalidValue(p.child('name'), name, `plugin does not extend ${point}`));
      return;
    }
    const weight = intIn(eo.weight, p.child('weight'), 0, 100, errs, 'must be an integer in [0-100] (0 means the default weight)') ?? 0;
    if (set.enabled.some((x) => x.name === name)) errs.push(duplicate(p.child('name'), name));
    set.enabled.push({ name, weight });
  });
  asArray(o.disabled, path.child('disabled'), errs).forEach((d, i) => {
    const p = path.child('disabled').index(i);
    const dobj = asObject(d, p, errs);
    if (!dobj) return;
    checkFields(dobj, p, ['name'], errs);
    const name = str(dobj.name, p.child('name'), errs);
    if (!name) {
      if (dobj.name === undefined) errs.push(required(p.child('name')));
      return;
    }
    if (name !== '*' && !pluginInfo[name]) {
      errs.push(invalidValue(p.child('name'), name, 'unknown plugin'));
      return;
    }
    set.disabled.push(name);
  });
  return set;
}

/** mergePluginSet is kube's v1 mergePluginSet: custom entries replace defaults in place, "*" drops all defaults, the rest append. */
function mergePluginSet(defaults: readonly ScorePluginRef[], custom: PluginSet): PluginSet {
  const disabled = new Set(custom.disabled);
  const customByName = new Map(custom.enabled.map((p, i) => [p.name, i]));
  const replaced = new Set<number>();
  const enabled: ScorePluginRef[] = [];
  if (!disabled.has('*')) {
    for (const d of defaults) {
      if (disabled.has(d.name)) continue;
      const idx = customByName.get(d.name);
      if (idx !== undefined) {
        enabled.push(custom.enabled[idx]);
        replaced.add(idx);
      } else {
        enabled.push({ ...d });
      }
    }
  }
  custom.enabled.forEach((p, i) => {
    if (!replaced.has(i)) enabled.push(p);
  });
  return { enabled, disabled: [...disabled] };
}

/**
 * expandPoint is the framework's multiPoint expansion for one extension point: plugins named both
 * at the point and in multiPoint first (in the point's order), then multiPoint plugins that
 * implement the point and are not disabled there, then the point's other plugins.
 */
function expandPoint(point: ExtensionPoint, multi: PluginSet, specific: PluginSet): ScorePluginRef[] {
  const disabled = new Set(specific.disabled);
  const explicit = new Map(specific.enabled.map((p) => [p.name, p]));
  const inMulti = new Set(multi.enabled.map((p) => p.name));
  const out: ScorePluginRef[] = [];
  for (const p of specific.enabled) if (inMulti.has(p.name)) out.push(p);
  if (!disabled.has('*')) {
    for (const p of multi.enabled) {
      if (!pluginInfo[p.name]?.points.includes(point)) continue;
      if (disabled.has(p.name) || explicit.has(p.name)) continue;
      out.push(p);
    }
  }
  for (const p of specific.enabled) if (!inMulti.has(p.name)) out.push(p);
  return out;
}

const profileFields = ['schedulerName', 'percentageOfNodesToScore', 'plugins', 'pluginConfig'];
const pluginsFields = ['multiPoint', ...supportedPoints, ...Object.keys(unsupportedPoints)];

function resolveProfile(raw: Obj, path: Path, errs: FieldError[]): FrameworkProfile {
  checkFields(raw, path, profileFields, errs);
  const schedulerName = str(raw.schedulerName, path.child('schedulerName'), errs) || DefaultSchedulerName;
  const percentage = intIn(raw.percentageOfNodesToScore, path.child('percentageOfNodesToScore'), 0, 100, errs);

  const pluginsPath = path.child('plugins');
  const plugins = asObject(raw.plugins, pluginsPath, errs) ?? {};
  checkFields(plugins, pluginsPath, pluginsFields, errs);
  for (const [point, allowed] of Object.entries(unsupportedPoints)) {
    const set = parsePluginSetLoose(plugins[point], pluginsPath.child(point), errs);
    set.forEach((name, i) => {
      if (!allowed.includes(name)) errs.push(forbiddenField(pluginsPath.child(point, 'enabled').index(i), `extension point ${point} is not supported; only ${allowed.length ? allowed.join(', ') : 'no plugin'} may be enabled there`));
    });
  }
  const multi = mergePluginSet(defaultMultiPoint, parsePluginSet(plugins.multiPoint, pluginsPath.child('multiPoint'), 'multiPoint', errs));
  const resolved = {} as Record<ExtensionPoint, ScorePluginRef[]>;
  for (const point of supportedPoints) {
    resolved[point] = expandPoint(point, multi, parsePluginSet(plugins[point], pluginsPath.child(point), point, errs));
  }

  const pluginConfig = defaultPluginConfig();
  const seen = new Set<string>();
  asArray(raw.pluginConfig, path.child('pluginConfig'), errs).forEach((pc, i) => {
    const p = path.child('pluginConfig').index(i);
    const o = asObject(pc, p, errs);
    if (!o) return;
    checkFields(o, p, ['name', 'args'], errs);
    const name = str(o.name, p.child('name'), errs);
    if (!name) {
      if (o.name === undefined) errs.push(required(p.child('name')));
      return;
    }
    if (seen.has(name)) errs.push(duplicate(p.child('name'), name));
    seen.add(name);
    const validate = argsValidators[name];
    if (!validate) {
      errs.push(invalidValue(p.child('name'), name, pluginInfo[name] ? 'plugin takes no args' : 'unknown plugin'));
      return;
    }
    const args = asObject(o.args, p.child('args'), errs) ?? {};
    pluginConfig[name] = validate(args, p.child('args'), errs);
  });

  return {
    schedulerName,
    ...(percentage !== undefined ? { percentageOfNodesToScore: percentage } : {}),
    plugins: {
      preFilter: resolved.preFilter.map((p) => p.name),
      filter: resolved.filter.map((p) => p.name),
      postFilter: resolved.postFilter.map((p) => p.name),
      preScore: resolved.preScore.map((p) => p.name),
      score: resolved.score.map((p) => ({ name: p.name, weight: p.weight || 1 })),
    },
    pluginConfig,
  };
}

/** parsePluginSetLoose reads the enabled names of an extension point skiff does not run. */
function parsePluginSetLoose(raw: unknown, path: Path, errs: FieldError[]): string[] {
  const o = asObject(raw, path, errs);
  if (!o) return [];
  return asArray(o.enabled, path.child('enabled'), errs).map((e) => (isObject(e) && typeof e.name === 'string' ? e.name : ''));
}

// ---------------------------------------------------------------------------------------------
// Plugin args

type ArgsValidator = (args: Obj, path: Path, errs: FieldError[]) => unknown;

const argsMeta = ['apiVersion', 'kind'];

function validateResources(raw: unknown, path: Path, errs: FieldError[]): { name: string; weight: number }[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  const out: { name: string; weight: number }[] = [];
  asArray(raw, path, errs).forEach((r, i) => {
    const p = path.index(i);
    const o = asObject(r, p, errs);
    if (!o) return;
    checkFields(o, p, ['name', 'weight'], errs);
    const name = str(o.name, p.child('name'), errs);
    if (!name) {
      errs.push(required(p.child('name')));
      return;
    }
    const weight = o.weight === undefined ? 1 : intIn(o.weight, p.child('weight'), 1, 100, errs, `resource weight of ${name} not in valid range [1-100]`);
    if (weight === undefined) return;
    if (out.some((x) => x.name === name)) errs.push(duplicate(p.child('name'), name));
    out.push({ name, weight });
  });
  return out;
}

const strategyTypes = Object.values(ScoringStrategyType);

const argsValidators: Readonly<Record<string, ArgsValidator>> = {
  [NodeResourcesFitName]: (args, path, errs) => {
    checkFields(args, path, [...argsMeta, 'ignoredResources', 'ignoredResourceGroups', 'scoringStrategy'], errs);
    const out: Obj = {};
    const ignored = asArray(args.ignoredResources, path.child('ignoredResources'), errs);
    ignored.forEach((r, i) => str(r, path.child('ignoredResources').index(i), errs));
    if (ignored.length) out.ignoredResources = ignored;
    const groups = asArray(args.ignoredResourceGroups, path.child('ignoredResourceGroups'), errs);
    groups.forEach((g, i) => {
      const s = str(g, path.child('ignoredResourceGroups').index(i), errs);
      if (s?.includes('/')) errs.push(invalidValue(path.child('ignoredResourceGroups').index(i), s, 'resource group name can\'t contain "/"'));
    });
    if (groups.length) out.ignoredResourceGroups = groups;
    const sp = path.child('scoringStrategy');
    const ss = asObject(args.scoringStrategy, sp, errs) ?? {};
    checkFields(ss, sp, ['type', 'resources', 'requestedToCapacityRatio'], errs);
    let type = ScoringStrategyType.MostAllocated as string;
    if (ss.type !== undefined) {
      if (typeof ss.type !== 'string' || !strategyTypes.includes(ss.type as ScoringStrategyType)) errs.push(notSupported(sp.child('type'), ss.type, strategyTypes));
      else type = ss.type;
    }
    const resources = validateResources(ss.resources, sp.child('resources'), errs) ?? [
      { name: 'cpu', weight: 1 },
      { name: 'memory', weight: 1 },
    ];
    const strategy: Obj = { type, resources };
    if (type === ScoringStrategyType.RequestedToCapacityRatio) {
      const rp = sp.child('requestedToCapacityRatio');
      const r = asObject(ss.requestedToCapacityRatio, rp, errs);
      if (!r) {
        errs.push(required(rp));
      } else {
        checkFields(r, rp, ['shape'], errs);
        const shape: { utilization: number; score: number }[] = [];
        const shp = asArray(r.shape, rp.child('shape'), errs);
        if (shp.length === 0) errs.push(required(rp.child('shape'), 'at least one point must be specified'));
        shp.forEach((pt, i) => {
          const pp = rp.child('shape').index(i);
          const o = asObject(pt, pp, errs);
          if (!o) return;
          checkFields(o, pp, ['utilization', 'score'], errs);
          const u = intIn(o.utilization ?? 0, pp.child('utilization'), 0, 100, errs);
          const s = intIn(o.score ?? 0, pp.child('score'), 0, 10, errs);
          if (u === undefined || s === undefined) return;
          if (shape.length && u <= shape[shape.length - 1].utilization) {
            errs.push(invalidValue(pp.child('utilization'), u, 'utilization values must be sorted in increasing order'));
          }
          shape.push({ utilization: u, score: s });
        });
        strategy.requestedToCapacityRatio = { shape };
      }
    } else if (ss.requestedToCapacityRatio !== undefined) {
      errs.push(forbiddenField(sp.child('requestedToCapacityRatio'), `only allowed with type ${ScoringStrategyType.RequestedToCapacityRatio}`));
    }
    out.scoringStrategy = strategy;
    return out;
  },
  [InterPodAffinityName]: (args, path, errs) => {
    checkFields(args, path, [...argsMeta, 'hardPodAffinityWeight', 'ignorePreferredTermsOfExistingPods'], errs);
    const ignore = args.ignorePreferredTermsOfExistingPods;
    if (ignore !== undefined && typeof ignore !== 'boolean') errs.push(invalidValue(path.child('ignorePreferredTermsOfExistingPods'), ignore, 'must be a boolean'));
    return {
      hardPodAffinityWeight: intIn(args.hardPodAffinityWeight, path.child('hardPodAffinityWeight'), 0, 100, errs) ?? 1,
      ignorePreferredTermsOfExistingPods: ignore === true,
    };
  },
  [NodeAffinityName]: (args, path, errs) => {
    checkFields(args, path, [...argsMeta, 'addedAffinity'], errs);
    const ap = path.child('addedAffinity');
    const a = asObject(args.addedAffinity, ap, errs);
    if (!a) return {};
    checkFields(a, ap, ['requiredDuringSchedulingIgnoredDuringExecution', 'preferredDuringSchedulingIgnoredDuringExecution'], errs);
    const req = asObject(a.requiredDuringSchedulingIgnoredDuringExecution, ap.child('requiredDuringSchedulingIgnoredDuringExecution'), errs);
    if (req && asArray(req.nodeSelectorTerms, ap.child('requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms'), errs).length === 0) {
      errs.push(required(ap.child('requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms'), 'must have at least one node selector term'));
    }
    asArray(a.preferredDuringSchedulingIgnoredDuringExecution, ap.child('preferredDuringSchedulingIgnoredDuringExecution'), errs).forEach((t, i) => {
      const tp = ap.child('preferredDuringSchedulingIgnoredDuringExecution').index(i);
      const o = asObject(t, tp, errs);
      if (o) intIn(o.weight, tp.child('weight'), 1, 100, errs, 'must be in the range 1-100');
    });
    return { addedAffinity: a };
  },
  [PodTopologySpreadName]: (args, path, errs) => {
    // ValidatePodTopologySpreadArgs; defaultingType defaults to System as in v1.
    checkFields(args, path, [...argsMeta, 'defaultingType', 'defaultConstraints'], errs);
    const type = args.defaultingType ?? 'System';
    const raw = asArray(args.defaultConstraints, path.child('defaultConstraints'), errs);
    if (type !== 'System' && type !== 'List') errs.push(notSupported(path.child('defaultingType'), type, ['System', 'List']));
    else if (type === 'System' && raw.length > 0) errs.push(invalidValue(path.child('defaultingType'), type, 'when .defaultConstraints are not empty'));
    const cp = path.child('defaultConstraints');
    const seen = new Set<string>();
    const constraints: TopologySpreadConstraint[] = [];
    raw.forEach((v, i) => {
      const p = cp.index(i);
      const c = asObject(v, p, errs);
      if (!c) return;
      checkFields(c, p, ['maxSkew', 'topologyKey', 'whenUnsatisfiable', 'labelSelector', 'minDomains', 'nodeAffinityPolicy', 'nodeTaintsPolicy', 'matchLabelKeys'], errs);
      if (typeof c.maxSkew !== 'number' || !Number.isInteger(c.maxSkew) || c.maxSkew <= 0) errs.push(invalidValue(p.child('maxSkew'), c.maxSkew, 'not in valid range (0, inf)'));
      const key = str(c.topologyKey, p.child('topologyKey'), errs) ?? '';
      if (key === '') errs.push(required(p.child('topologyKey'), 'can not be empty'));
      else for (const m of isQualifiedName(key)) errs.push(invalidValue(p.child('topologyKey'), key, m));
      const when = str(c.whenUnsatisfiable, p.child('whenUnsatisfiable'), errs) ?? '';
      if (when !== 'DoNotSchedule' && when !== 'ScheduleAnyway') errs.push(notSupported(p.child('whenUnsatisfiable'), when, ['DoNotSchedule', 'ScheduleAnyway']));
      if (c.labelSelector !== undefined && c.labelSelector !== null) {
        errs.push(forbiddenField(p.child('labelSelector'), 'constraint must not define a selector, as they deduced for each pod'));
      }
      const pair = `{${key}, ${when}}`;
      if (seen.has(pair)) errs.push(duplicate(cp.index(i), pair));
      seen.add(pair);
      constraints.push(c as unknown as TopologySpreadConstraint);
    });
    return type === 'List' ? { defaultingType: 'List', defaultConstraints: constraints } : { defaultingType: 'System' };
  },
  [NodeResourcesBalancedAllocationName]: (args, path, errs) => {
    checkFields(args, path, [...argsMeta, 'resources'], errs);
    return {
      resources: validateResources(args.resources, path.child('resources'), errs) ?? [
        { name: 'cpu', weight: 1 },
        { name: 'memory', weight: 1 },
      ],
    };
  },
  [DefaultPreemptionName]: (args, path, errs) => {
    checkFields(args, path, [...argsMeta, 'minCandidateNodesPercentage', 'minCandidateNodesAbsolute'], errs);
    const pct = intIn(args.minCandidateNodesPercentage, path.child('minCandidateNodesPercentage'), 0, 100, errs) ?? 10;
    const abs = intIn(args.minCandidateNodesAbsolute, path.child('minCandidateNodesAbsolute'), 0, Number.MAX_SAFE_INTEGER, errs, 'not in valid range [0, inf)') ?? 100;
    if (pct === 0 && abs === 0) errs.push(invalidValue(path.child('minCandidateNodesPercentage'), pct, 'cannot be zero at the same time as minCandidateNodesAbsolute'));
    return { minCandidateNodesPercentage: pct, minCandidateNodesAbsolute: abs };
  },
};
