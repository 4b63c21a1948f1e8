// Wires the OpenAPI v3 documents and the unknown/duplicate-field checks (both derived from the
// client-node models) into the server.

import type { ResourceDefinition } from '../lib/api/resource.js';
import type { FieldValidator } from './endpoints/resources.js';
import { modelOf, OpenAPIV3Service } from './openapi.js';
import { strictDecodingError, strictPatchError, strictProblems, warningTexts } from './fieldvalidation.js';
import type { APIRegistry } from './registry/registry.js';
import { bodyDecodeError } from './registry/decode.js';

export function newFieldValidator(): FieldValidator {
  return {
    check: (def, obj, raw, media) => {
      // A value of the wrong type fails decoding before unknown fields are looked for, as in
      // kube-apiserver, where strict errors are reported only for a body that decodes.
      if (obj !== null && typeof obj === 'object' && !Array.isArray(obj) && !media.includes('patch')) {
        const err = bodyDecodeError(def, obj as Record<string, unknown>);
        if (err) throw err;
      }
      return strictProblems(raw, media, modelOf(def as ResourceDefinition<any>), obj);
    },
    strictError: (def, body, problems, patchValue) => {
      if (patchValue !== undefined) return strictPatchError(problems, patchValue);
      const b = body as { kind?: string; apiVersion?: string };
      const version = typeof b?.apiVersion === 'string' ? b.apiVersion.split('/').pop()! : def.version;
      return strictDecodingError(problems, { kind: b?.kind ?? def.kind, version, intoKind: def.kind });
    },
    warnings: (problems) => warningTexts(problems),
  };
}

export function newOpenAPIProvider(registry: APIRegistry): OpenAPIV3Service {
  return new OpenAPIV3Service(() => registry.all().map((s) => s.def));
}
