#!/usr/bin/env node
// The Widget controller as a program, against whatever cluster $KUBECONFIG (or ~/.kube/config)
// points at, e.g. `npm run up`'s:
//
//   kubectl apply -f examples/widget-controller/widget.crd.yaml
//   node dist/examples/widget-controller/main.js
//
// It stops on SIGINT or SIGTERM.

import { KubeConfig } from '@kubernetes/client-node';
import { startWidgetController } from './controller.js';

const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const controller = startWidgetController(kubeConfig);
await controller.synced;
process.stdout.write(`widget controller: caches synced, reconciling Widgets on ${kubeConfig.getCurrentCluster()?.server}\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void controller.stop().then(() => process.exit(0));
  });
}
