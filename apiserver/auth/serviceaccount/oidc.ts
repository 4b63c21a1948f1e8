// Service-account issuer discovery (kube-apiserver's ServiceAccountIssuerDiscovery): an OpenID
// Connect provider configuration and the key set, so that other parties can verify this
// cluster's service-account tokens without asking it.

import type { ServerResponse } from 'node:http';
import type { JWK } from 'jose';
import { algorithmOf, publicJWKS, type ServiceAccountKeys } from './tokens.js';

/** OIDCDocuments are the two bodies discovery serves, rendered once. */
export interface OIDCDocuments {
  configuration: string;
  jwks: string;
}

/** OpenIDConfiguration is the provider metadata kube serves. */
export interface OpenIDConfiguration {
  issuer: string;
  jwks_uri: string;
  response_types_supported: string[];
  subject_types_supported: string[];
  id_token_signing_alg_values_supported: string[];
}

/**
 * oidcDocuments renders the discovery documents, or undefined when the issuer is not an https
 * URL (kube serves discovery only then). jwksURI defaults to the apiserver's own
 * https://<external address>/openid/v1/jwks, as --service-account-jwks-uri does.
 */
export async function oidcDocuments(issuer: string, keys: ServiceAccountKeys, externalAddress: string, jwksURI?: string): Promise<OIDCDocuments | undefined> {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:') return undefined;
  const jwks: { keys: JWK[] } = await publicJWKS(keys);
  const configuration: OpenIDConfiguration = {
    issuer,
    jwks_uri: jwksURI ?? `https://${externalAddress}/openid/v1/jwks`,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...new Set(keys.publicKeys.map(algorithmOf))].sort(),
  };
  return { configuration: JSON.stringify(configuration), jwks: JSON.stringify(jwks) };
}

/** serveOIDC answers the two discovery paths; false for any other path. */
export function serveOIDC(docs: OIDCDocuments, seg: string[], res: ServerResponse): boolean {
  let body: string;
  let type: string;
  if (seg.length === 2 && seg[0] === '.well-known' && seg[1] === 'openid-configuration') {
    body = docs.configuration;
    type = 'application/json';
  } else if (seg.length === 3 && seg[0] === 'openid' && seg[1] === 'v1' && seg[2] === 'jwks') {
    body = docs.jwks;
    type = 'application/jwk-set+json';
  } else return false;
  // Public keys change rarely: let clients cache them for an hour, as kube does.
  res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'public, max-age=3600', 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(body);
  return true;
}
