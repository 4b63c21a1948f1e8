// The subresources served by code of their own. A new one (pods/log, pods/exec, nodes/proxy,
// serviceaccounts/token) is a SubresourceStorage in this folder, listed here; the HTTP handler
// finds it by name and by what it serves. status and scale are generic: every kind that declares
// them in its ResourceDefinition gets them from the generic store.

import type { ResourceDefinition } from '../../../lib/api/resource.js';
import { approvalREST } from './approval.js';
import { bindingREST } from './binding.js';
import { evictionREST } from './eviction.js';
import { finalizeREST } from './finalize.js';
import { tokenREST } from './token.js';
import { attachREST, execREST, logREST, nodeProxyREST, portForwardREST } from './kubelet.js';
import type { SubresourceStorage } from './types.js';

export type { ConnectRequest, KubeletClientConfig, SubresourceRequest, SubresourceResult, SubresourceStorage } from './types.js';
export { subresourceVerbs } from './types.js';

/** subresourceStorages lists every served SubresourceStorage. */
export const subresourceStorages: readonly SubresourceStorage[] = [approvalREST, bindingREST, evictionREST, finalizeREST, logREST, execREST, attachREST, portForwardREST, nodeProxyREST, tokenREST];

/** findSubresource returns the storage that serves `subresource` of a kind, if any. */
export function findSubresource(def: ResourceDefinition, subresource: string): SubresourceStorage | undefined {
  return subresourceStorages.find((s) => s.subresource === subresource && s.serves(def));
}
