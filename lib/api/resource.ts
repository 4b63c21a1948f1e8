// A resource is declared once — names, scope, verbs, printer columns, defaults, validation and
// strategy hooks — and the apiserver's generic registry serves it (routes, discovery, OpenAPI,
// tables, selectors). No route is written for one kind. CRDs become ResourceDefinitions at run time.

import type { FieldError } from '../machinery/field-errors.js';
import type { KubeObject } from './meta.js';

export const AllVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;
export type Verb = (typeof AllVerbs)[number];

export type ColumnType = 'string' | 'integer' | 'number' | 'boolean' | 'date';

/** PrinterColumn is one column of `kubectl get` (a metav1.TableColumnDefinition plus its cell). */
export interface PrinterColumn<T extends KubeObject = KubeObject> {
  name: string;
  type: ColumnType;
  format?: string; // 'name' for the NAME column, 'date' for AGE, …
  description?: string;
  /** priority 0 shows always; 1 only with -o wide. */
  priority?: number;
  /** cell computes the value; `date` columns return an RFC3339 string and are printed as an age. */
  cell: (obj: T, now: Date) => unknown;
}

/** ScaleSubresource says where the /scale subresource reads and writes (autoscaling/v1 Scale). */
export interface ScaleSubresource {
  specReplicasPath: string; // '.spec.replicas'
  statusReplicasPath: string; // '.status.replicas'
  labelSelectorPath?: string; // '.status.selector' (string) or computed by `selector`
  /** selector returns the label selector string for status.selector of the Scale. */
  selector?: (obj: KubeObject) => string;
}

/** StrategyContext is what the strategy hooks get: who asks, and helpers the registry provides. */
export interface StrategyContext {
  /** now is the request's clock; hooks use it instead of `new Date()` so one request sees one time. */
  now: Date;
  user?: { name: string; groups: string[] };
  /** warn sends a warning to the client (a `Warning` header), as kube's warning.AddWarning does. */
  warn?: (text: string) => void;
}

/** AuthorizationAttributes are what an authorizer decides on (kube-apiserver's authorizer.Attributes). */
export interface AuthorizationAttributes {
  user: { name: string; groups: string[] };
  verb: string;
  /** resource requests */
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** fieldSelector is a list's or watch's ?fieldSelector (the node authorizer reads spec.nodeName and metadata.name). */
  fieldSelector?: string;
  /** non-resource requests */
  path?: string;
  resourceRequest: boolean;
}

/** VirtualContext is what a virtual create (an access review) sees of the request. */
export interface VirtualContext {
  user: { name: string; uid?: string; groups: string[]; extra?: Record<string, string[]> };
  /** authorize asks the apiserver's authorizer about the given attributes for this user. */
  authorize(attrs: AuthorizationAttributes): { allowed: boolean; denied?: boolean; reason?: string };
  /**
   * authenticateToken asks the apiserver's authenticator about a bearer token for audiences
   * (empty: the apiserver's own), for TokenReview; absent when the apiserver has none.
   */
  authenticateToken?(token: string, audiences?: string[]): Promise<TokenReviewAnswer>;
  /** namespace is the request's namespace (a LocalSubjectAccessReview's). */
  namespace?: string;
  /** rules lists what a user may do in a namespace (SelfSubjectRulesReview); undefined when no authorizer can list rules. */
  rules?(user: { name: string; groups: string[] }, namespace: string): ResolvedRules;
}

/** ResolvedRules are a user's rules as SelfSubjectRulesReview reports them. */
export interface ResolvedRules {
  resourceRules: { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }[];
  nonResourceRules: { verbs: string[]; nonResourceURLs?: string[] }[];
  incomplete: boolean;
  evaluationError?: string;
}

/** TokenReviewAnswer is the authenticator's answer about one token. */
export type TokenReviewAnswer =
  | { user: { name: string; uid?: string; groups: string[]; extra?: Record<string, string[]> }; audiences: string[] }
  | { user?: undefined; error: string };

export interface ResourceDefinition<T extends KubeObject = KubeObject> {
  group: string; // '' for the core group
  version: string;
  kind: string;
  listKind?: string; // default `${kind}List`
  plural: string;
  singular: string;
  shortNames?: string[];
  categories?: string[];
  namespaced: boolean;
  verbs?: readonly Verb[]; // default AllVerbs
  /**
   * storageVersion is the group, version and kind objects are stored as, when not this
   * declaration's own: a custom resource's storage version, the core Event behind
   * events.k8s.io. Discovery's storageVersionHash is computed from it.
   */
  storageVersion?: { group: string; version: string; kind: string };
  /**
   * storageConversion converts between this version and the storage version of a built-in kind
   * served in several versions from one storage (autoscaling/v1 HorizontalPodAutoscaler over
   * autoscaling/v2): the registry reads and writes through it. Neither direction mutates its input.
   */
  storageConversion?: { toStorage(obj: KubeObject): KubeObject; fromStorage(obj: KubeObject): KubeObject };
  /**
   * deprecationWarning marks a deprecated version: every request to it gets this text as a
   * `Warning` header (kube-apiserver's deprecated-API and custom resource warnings).
   */
  deprecationWarning?: string;
  subresources?: {
    status?: boolean;
    scale?: ScaleSubresource;
  };
  /** hasGeneration: metadata.generation starts at 1 and is bumped when anything but metadata/status changes. */
  hasGeneration?: boolean;
  printerColumns?: PrinterColumn<T>[];
  /** fieldSelectors beyond metadata.name and metadata.namespace, as Kubernetes supports them per kind. */
  fieldSelectors?: Record<string, (obj: T) => string | undefined>;
  /** defaults fills defaults in place (the object is already a private copy). */
  defaults?: (obj: T) => void;
  /** prepareForCreate clears or sets server-owned fields before validation (e.g. status). */
  prepareForCreate?: (obj: T, ctx: StrategyContext) => void;
  /** prepareForUpdate runs on a full update of the main resource; `old` must not be mutated. */
  prepareForUpdate?: (obj: T, old: T, ctx: StrategyContext) => void;
  /** prepareForStatusUpdate runs on /status updates; by default only status is taken from obj. */
  prepareForStatusUpdate?: (obj: T, old: T, ctx: StrategyContext) => void;
  /**
   * statusUpdateKeepsAnnotations: a /status update also takes metadata.annotations from obj, as
   * kube's Deployment status strategy does (the Deployment controller writes the
   * `deployment.kubernetes.io/revision` annotation through /status, without a new generation).
   */
  statusUpdateKeepsAnnotations?: boolean;
  validate?: (obj: T) => FieldError[];
  /** warningsOnCreate are warnings for an object that passed validation (kube's strategy WarningsOnCreate). */
  warningsOnCreate?: (obj: T) => string[];
  /** warningsOnUpdate are warnings for an update that passed validation (kube's strategy WarningsOnUpdate). */
  warningsOnUpdate?: (obj: T, old: T) => string[];
  validateUpdate?: (obj: T, old: T) => FieldError[];
  validateStatusUpdate?: (obj: T, old: T) => FieldError[];
  /** true when a delete must keep the object (graceful deletion), e.g. pods bound to a node. */
  gracefulDelete?: (obj: T, gracePeriodSeconds: number | bigint | undefined) => { graceful: boolean; gracePeriodSeconds: number | bigint };
  /** OpenAPI v3 schema of the kind (issue 3 fills these in); optional. */
  schema?: Record<string, unknown>;
  /**
   * virtualCreate makes a create compute its answer instead of storing anything (reviews such as
   * SelfSubjectAccessReview). Such kinds serve only `create`.
   */
  virtualCreate?: (obj: T, ctx: VirtualContext) => T | Promise<T>;
  /** returnDeletedObject: DELETE answers with the deleted object instead of a Success Status. */
  returnDeletedObject?: boolean;
  /** allowCreateOnUpdate: PUT to a missing name creates it (leases, endpoints, …). */
  allowCreateOnUpdate?: boolean;
  /**
   * allowUnconditionalUpdate (default true, as for most of kube's strategies): a PUT whose
   * body has no resourceVersion (or "0") updates whatever is stored. False for
   * CustomResourceDefinitions and custom resources, which then answer 422 "must be specified
   * for an update".
   */
  allowUnconditionalUpdate?: boolean;
  // ---- custom resources (served from a CustomResourceDefinition) ----
  /**
   * patchTypes lists the patch media types the kind accepts, when not every type is: custom
   * resources take JSON patch, merge patch and apply, and answer 415 to strategic merge patch.
   */
  patchTypes?: readonly string[];
  /**
   * unknownFields returns the paths (`spec.foo`) of the fields of obj the kind's schema does not
   * know, for ?fieldValidation. For kinds without a client-node model (custom resources) the
   * schema, not the model, decides; the fields are pruned by `defaults`.
   */
  unknownFields?: (obj: unknown) => string[];
}

/** defineResource exists to give declarations a checked type with inference at the definition. */
export function defineResource<T extends KubeObject>(def: ResourceDefinition<T>): ResourceDefinition<T> {
  return def;
}

export function apiVersionOf(def: Pick<ResourceDefinition, 'group' | 'version'>): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

export function listKindOf(def: ResourceDefinition<any>): string {
  return def.listKind ?? `${def.kind}List`;
}
