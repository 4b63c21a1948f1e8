// Tests of the Widget controller against a whole cluster from skiff/testing: one cluster for the
// file, one namespace per test for isolation. The garbage collector and the namespace controller
// run too, so deleting a Widget removes its ConfigMap, and a namespace deletion finishes.

import { CoreV1Api, CustomObjectsApi, type V1ConfigMap } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startCluster, type Cluster } from 'skiff/testing';
import { startWidgetController, widgetResource, type Widget, type WidgetController } from './controller.js';

// The CRD sits beside this file's source; tests run from the compiled copy in dist/.
const crdFile = fileURLToPath(new URL('../../../examples/widget-controller/widget.crd.yaml', import.meta.url));

/** eventually retries check until it stops throwing, or rethrows its last error after timeoutMs. */
async function eventually<T>(check: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** isNotFound tells a client-node 404. */
const isNotFound = (err: unknown) => (err as { code?: number }).code === 404;

describe('widget controller', () => {
  let cluster: Cluster;
  let controller: WidgetController;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;

  before(async () => {
    cluster = await startCluster({ nodes: 1, crds: [crdFile] });
    core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    controller = startWidgetController(cluster.kubeConfig);
    await controller.synced;
  });
  // after hooks run when a test failed too: nothing is left running.
  after(async () => {
    await controller?.stop();
    await cluster?.stop();
  });

  /** newNamespace makes a namespace of the test's own. */
  async function newNamespace(): Promise<string> {
    const name = `t-${randomUUID().slice(0, 8)}`;
    await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    return name;
  }

  const widget = (namespace: string, name: string, message: string): Widget => ({
    apiVersion: `${widgetResource.group}/${widgetResource.version}`,
    kind: 'Widget',
    metadata: { name, namespace },
    spec: { message },
  });

  test('creates a ConfigMap owned by the Widget, follows spec changes and reports status', async () => {
    const namespace = await newNamespace();
    const [created] = await cluster.apply(widget(namespace, 'hello', 'first'));
    const cm = await eventually(() => core.readNamespacedConfigMap({ namespace, name: 'hello-widget' }));
    assert.equal(cm.data?.message, 'first');
    assert.deepEqual(
      cm.metadata?.ownerReferences?.map((r) => ({ kind: r.kind, name: r.name, uid: r.uid, controller: r.controller })),
      [{ kind: 'Widget', name: 'hello', uid: created!.metadata!.uid, controller: true }],
    );

    await cluster.apply(widget(namespace, 'hello', 'second'));
    await eventually(async () => {
      const updated = await core.readNamespacedConfigMap({ namespace, name: 'hello-widget' });
      assert.equal(updated.data?.message, 'second');
    });
    await eventually(async () => {
      const w = (await custom.getNamespacedCustomObject({ ...widgetResource, namespace, name: 'hello' })) as Widget;
      assert.deepEqual(w.status, { configMapName: 'hello-widget', observedGeneration: w.metadata!.generation });
      assert.equal(w.metadata!.generation, 2);
    });
  });

  test('puts back a ConfigMap someone changed', async () => {
    const namespace = await newNamespace();
    await cluster.apply(widget(namespace, 'stubborn', 'mine'));
    const cm = await eventually(() => core.readNamespacedConfigMap({ namespace, name: 'stubborn-widget' }));
    await core.replaceNamespacedConfigMap({ namespace, name: 'stubborn-widget', body: { ...cm, data: { message: 'theirs' } } as V1ConfigMap });
    await eventually(async () => {
      const again = await core.readNamespacedConfigMap({ namespace, name: 'stubborn-widget' });
      assert.equal(again.data?.message, 'mine');
    });
  });

  test('the garbage collector deletes the ConfigMap with its Widget', async () => {
    const namespace = await newNamespace();
    await cluster.apply(widget(namespace, 'doomed', 'bye'));
    await eventually(() => core.readNamespacedConfigMap({ namespace, name: 'doomed-widget' }));
    await custom.deleteNamespacedCustomObject({ ...widgetResource, namespace, name: 'doomed' });
    await eventually(async () => {
      await assert.rejects(core.readNamespacedConfigMap({ namespace, name: 'doomed-widget' }), isNotFound);
    });
  });

  test('deleting the namespace finishes, Widgets and ConfigMaps included', async () => {
    const namespace = await newNamespace();
    await cluster.apply([widget(namespace, 'a', 'one'), widget(namespace, 'b', 'two')]);
    await eventually(() => core.readNamespacedConfigMap({ namespace, name: 'b-widget' }));
    await core.deleteNamespace({ name: namespace });
    await eventually(async () => {
      await assert.rejects(core.readNamespace({ name: namespace }), isNotFound);
    }, 60_000);
  });
});
