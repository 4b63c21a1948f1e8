// The csrapproving and csrsigning controllers: wiring. Every CSR add or update enqueues it; the
// reconciles are in sync.ts. csrsigning needs --cluster-signing-cert-file and -key-file.

import { readFileSync } from 'node:fs';
import type { CertificateSigningRequest } from '../../lib/api/certificates/certificatesigningrequest.js';
import { CertificateSigningRequests } from '../../lib/client/resources.js';
import type { ControllerStarter } from '../context.js';
import { type CSRSyncer, syncApproval, syncSigning } from './sync.js';

/** startCSRApprovingController starts csrapproving. */
export const startCSRApprovingController: ControllerStarter = (ctx) => {
  const informer = ctx.informers.informerFor<CertificateSigningRequest>(CertificateSigningRequests);
  const syncer: CSRSyncer = { client: ctx.client, csrs: informer.lister(), log: ctx.log.with({ controller: 'csrapproving' }) };
  const controller = ctx.runController({
    name: 'csrapproving',
    informers: [informer],
    setup: (c) => {
      informer.on('add', (csr) => c.enqueue(csr));
      informer.on('update', (csr) => c.enqueue(csr));
    },
    reconcile: (key) => syncApproval(syncer, key),
  });
  return [controller];
};

/** startCSRSigningController starts csrsigning, or nothing when the controller manager has no CA to sign with. */
export const startCSRSigningController: ControllerStarter = (ctx) => {
  const signing = ctx.config.clusterSigning;
  if (!signing) {
    ctx.log.info('Skipping the CSR signing controller: no --cluster-signing-cert-file and --cluster-signing-key-file');
    return [];
  }
  const cfg = { caCertPem: readFileSync(signing.certFile, 'utf8'), caKeyPem: readFileSync(signing.keyFile, 'utf8'), maxDurationMs: signing.durationMs };
  const informer = ctx.informers.informerFor<CertificateSigningRequest>(CertificateSigningRequests);
  const syncer: CSRSyncer = { client: ctx.client, csrs: informer.lister(), log: ctx.log.with({ controller: 'csrsigning' }) };
  const controller = ctx.runController({
    name: 'csrsigning',
    informers: [informer],
    setup: (c) => {
      informer.on('add', (csr) => c.enqueue(csr));
      informer.on('update', (csr) => c.enqueue(csr));
    },
    reconcile: (key) => syncSigning(syncer, cfg, key),
  });
  return [controller];
};
