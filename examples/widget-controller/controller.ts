// The Widget controller: a controller for a custom resource written the way a controller author
// would with @kubernetes/client-node alone (its informers, typed clients and a small work queue),
// not with skiff's internal lib/controller. For each Widget it keeps a ConfigMap <name>-widget
// holding spec.message, with an ownerReference to the Widget so that the garbage collector
// deletes it with its Widget, and it reports status.configMapName and status.observedGeneration.

import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
  type V1ConfigMap,
} from '@kubernetes/client-node';

/** widgetResource is the Widget resource's group, version and plural (widget.crd.yaml). */
export const widgetResource = { group: 'example.skiff.dev', version: 'v1', plural: 'widgets' } as const;

/** Widget is the custom resource. */
export interface Widget extends KubernetesObject {
  spec: { message: string };
  status?: { configMapName?: string; observedGeneration?: number };
}

/** configMapNameFor names a Widget's ConfigMap. */
export function configMapNameFor(widget: Widget): string {
  return `${widget.metadata!.name}-widget`;
}

/** desiredConfigMap is the ConfigMap a Widget should have: a pure function of the Widget. */
export function desiredConfigMap(widget: Widget): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: configMapNameFor(widget),
      namespace: widget.metadata!.namespace,
      labels: { 'example.skiff.dev/widget': widget.metadata!.name! },
      ownerReferences: [
        {
          apiVersion: `${widgetResource.group}/${widgetResource.version}`,
          kind: 'Widget',
          name: widget.metadata!.name!,
          uid: widget.metadata!.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    data: { message: widget.spec.message },
  };
}

/** WidgetController is a running controller; stop() ends its watches and worker. */
export interface WidgetController {
  /** synced resolves once both informers have listed. */
  synced: Promise<void>;
  stop(): Promise<void>;
}

/** startWidgetController watches Widgets and ConfigMaps and reconciles each Widget's ConfigMap. */
export function startWidgetController(kubeConfig: KubeConfig): WidgetController {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const { group, version, plural } = widgetResource;

  const widgets = makeInformer<Widget>(
    kubeConfig,
    `/apis/${group}/${version}/${plural}`,
    () => custom.listClusterCustomObject({ group, version, plural }) as Promise<KubernetesListObject<Widget>>,
  );
  const configMaps = makeInformer<V1ConfigMap>(kubeConfig, '/api/v1/configmaps', () => core.listConfigMapForAllNamespaces(), 'example.skiff.dev/widget');

  const queue = new WorkQueue(async (key) => {
    const [namespace, name] = key.split('/') as [string, string];
    await reconcile(namespace, name);
  });

  /** reconcile makes one Widget's ConfigMap and status what they should be; "not found" is done. */
  async function reconcile(namespace: string, name: string): Promise<void> {
    const widget = widgets.get(name, namespace);
    // Gone or going: the garbage collector deletes the ConfigMap through its ownerReference.
    if (!widget || widget.metadata?.deletionTimestamp) return;
    const desired = desiredConfigMap(widget);
    const current = configMaps.get(desired.metadata!.name!, namespace);
    if (!current) {
      try {
        await core.createNamespacedConfigMap({ namespace, body: desired });
      } catch (err) {
        // The cache was behind: the next ConfigMap event brings this key back.
        if (!(err instanceof ApiException && err.code === 409)) throw err;
      }
    } else if (current.data?.message !== desired.data!.message) {
      // Never change a cached object: build the update from a copy.
      const updated: V1ConfigMap = { ...structuredClone(current), data: { ...current.data, ...desired.data } };
      await core.replaceNamespacedConfigMap({ namespace, name: desired.metadata!.name!, body: updated });
    }
    const status = { configMapName: desired.metadata!.name!, observedGeneration: widget.metadata!.generation };
    if (widget.status?.configMapName !== status.configMapName || widget.status?.observedGeneration !== status.observedGeneration) {
      await custom.patchNamespacedCustomObjectStatus({ group, version, plural, namespace, name, body: [{ op: 'add', path: '/status', value: status }] });
    }
  }

  const keyOf = (o: KubernetesObject) => `${o.metadata!.namespace}/${o.metadata!.name}`;
  for (const event of ['add', 'update', 'delete'] as const) {
    widgets.on(event, (w) => queue.add(keyOf(w)));
    // A ConfigMap changed or deleted by someone else brings its Widget back to the queue.
    configMaps.on(event, (cm) => {
      const owner = cm.metadata?.ownerReferences?.find((r) => r.controller && r.kind === 'Widget');
      if (owner) queue.add(`${cm.metadata!.namespace}/${owner.name}`);
    });
  }
  let stopped = false;
  // An informer stops on a watch error: start it again a moment later, as client-node's examples do.
  const restartOnError = (informer: Informer<KubernetesObject> & ObjectCache<KubernetesObject>) =>
    informer.on('error', () => {
      if (!stopped) setTimeout(() => void informer.start().catch(() => undefined), 500);
    });
  restartOnError(widgets as never);
  restartOnError(configMaps as never);

  // Start the worker only once both caches hold what the API has.
  const synced = Promise.all([widgets.start(), configMaps.start()]).then(() => queue.run());
  return {
    synced,
    stop: async () => {
      stopped = true;
      queue.shutDown();
      await Promise.all([widgets.stop(), configMaps.stop()]);
    },
  };
}

/**
 * WorkQueue runs one handler per key at a time: a key added while it is being handled is handled
 * again afterwards, and a handler that throws is retried with a doubling delay.
 */
class WorkQueue {
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private running = false;
  private shuttingDown = false;

  constructor(private readonly handle: (key: string) => Promise<void>) {}

  add(key: string): void {
    if (this.shuttingDown) return;
    this.dirty.add(key);
    this.pump();
  }

  run(): void {
    this.running = true;
    this.pump();
  }

  shutDown(): void {
    this.shuttingDown = true;
  }

  private pump(): void {
    if (!this.running || this.shuttingDown) return;
    for (const key of this.dirty) {
      if (this.processing.has(key)) continue;
      this.dirty.delete(key);
      this.processing.add(key);
      void this.handle(key).then(
        () => this.failures.delete(key),
        () => {
          const n = (this.failures.get(key) ?? 0) + 1;
          this.failures.set(key, n);
          setTimeout(() => this.add(key), Math.min(5 * 2 ** n, 10_000)).unref();
        },
      ).finally(() => {
        this.processing.delete(key);
        this.pump();
      });
    }
  }
}
