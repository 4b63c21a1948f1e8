// certificatesigningrequests/approval: the approval conditions of a CSR (kube's ApprovalREST with
// csrApprovalStrategy). Only status.conditions change; spec and the certificate stay.

import { type CertificateSigningRequest, prepareForApprovalUpdate, validateApprovalUpdate } from '../../../lib/api/certificates/certificatesigningrequest.js';
import type { KubeObject } from '../../../lib/api/meta.js';
import { badRequest, invalid } from '../../../lib/machinery/status.js';
import type { SubresourceStorage } from './types.js';

/** approvalREST serves GET and PUT of certificatesigningrequests/approval (`kubectl certificate approve|deny`). */
export const approvalREST: SubresourceStorage = {
  subresource: 'approval',
  kind: { kind: 'CertificateSigningRequest' },
  serves: (def) => def.group === 'certificates.k8s.io' && def.plural === 'certificatesigningrequests',
  bodyIsParent: true,
  async get({ store, name }) {
    return { code: 200, object: await store.get(undefined, name) };
  },
  async update({ store, name, ctx, dryRun }, body) {
    const csr = body as unknown as CertificateSigningRequest;
    if (csr.metadata?.name && csr.metadata.name !== name) throw badRequest(`the name of the object (${csr.metadata.name}) does not match the name on the URL (${name})`);
    ctx.dryRun = dryRun();
    const rv = csr.metadata?.resourceVersion;
    const object = await store.updateRaw(
      undefined,
      name,
      (cur) => {
        const old = cur as CertificateSigningRequest;
        const next = structuredClone(old);
        next.status = { ...(next.status ?? {}), conditions: structuredClone(csr.status?.conditions) };
        prepareForApprovalUpdate(next, old, ctx);
        const errs = validateApprovalUpdate(next, old);
        if (errs.length) throw invalid(store.gk, name, errs);
        return next as KubeObject;
      },
      rv && rv !== '0' ? { resourceVersion: rv } : undefined,
      ctx.dryRun,
    );
    return { code: 200, object };
  },
};
