// The NamespaceLifecycle admission plugin's delete half (k8s.io/apiserver
// pkg/admission/plugin/namespace/lifecycle): the namespaces every cluster relies on — default
// (where the `kubernetes` Service lives), kube-system and kube-public — may not be deleted, by
// anyone, dry run or not. kube-node-lease is not among them, as in Kubernetes. The plugin's other
// half (no creates in a missing or terminating namespace) is the registry's namespace lookup.

import { forbidden } from '../../lib/machinery/status.js';
import type { DeleteAdmissionRequest } from '../registry/store.js';

/** immortalNamespaces are the namespaces the plugin refuses to delete (kube's immortalNamespaces). */
export const immortalNamespaces: ReadonlySet<string> = new Set(['default', 'kube-system', 'kube-public']);

const namespaceResource = { group: '', resource: 'namespaces' };

/** admitNamespaceDelete refuses a delete of an immortal namespace with 403 Forbidden, as kube-apiserver does. */
export function admitNamespaceDelete(req: DeleteAdmissionRequest): void {
  if (immortalNamespaces.has(req.name)) throw forbidden(namespaceResource, req.name, 'this namespace may not be deleted');
}
