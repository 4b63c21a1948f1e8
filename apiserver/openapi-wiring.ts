// Wires the OpenAPI documents and the unknown/duplicate-field checks into the server.

import type { FieldValidator } from './endpoints/resources.js';
import type { OpenAPIProvider } from './server.js';
import type { APIRegistry } from './registry/registry.js';

export function newFieldValidator(): FieldValidator | undefined {
  return undefined;
}

export function newOpenAPIProvider(_registry: APIRegistry): OpenAPIProvider | undefined {
  return undefined;
}
