import { test } from 'node:test';
import assert from 'node:assert/strict';

import { builtinResources } from '../../lib/api/index.js';
import { OpenAPIV3Service, openAPIV3Document, type OpenAPIV3Index, type SerializedDocument, type ServedResource } from '../openapi.js';
import { OpenAPIV2Service, openAPIV2Document, openAPIV2Response, toV2Schema, type V3Documents } from './v2.js';
import { decodeOpenAPIV2, encodeOpenAPIV2, openAPIV2LegacyProtobufType, openAPIV2ProtobufType } from './v2proto.js';

type JSONObject = Record<string, any>;

test('toV2Schema writes v3-only shapes as kube-openapi writes them in v2', () => {
  assert.deepEqual(toV2Schema({ allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }], default: {}, description: 'Standard metadata.' }), {
    $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
    description: 'Standard metadata.',
  });
  assert.deepEqual(toV2Schema({ description: 'IntOrString', format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] }), {
    description: 'IntOrString',
    format: 'int-or-string',
    type: 'string',
  });
  assert.deepEqual(toV2Schema({ oneOf: [{ type: 'string' }, { type: 'number' }] }), { type: 'string' });
  assert.deepEqual(toV2Schema({ type: 'object', additionalProperties: { allOf: [{ $ref: '#/components/schemas/X' }] } }), {
    type: 'object',
    additionalProperties: { $ref: '#/definitions/X' },
  });
  // kubectl's model parser refuses an array without items.
  assert.deepEqual(toV2Schema({ type: 'array', description: 'anything' }), { description: 'anything' });
  // What kubectl's validation would wrongly refuse is left out, as for CRDs in kube-apiserver's v2.
  assert.deepEqual(
    toV2Schema({
      type: 'object',
      required: ['a', 'b'],
      properties: {
        a: { type: 'array', nullable: true, items: { type: 'string' } },
        b: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { c: { type: 'string' } } },
        i: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
      },
    }),
    {
      type: 'object',
      required: ['b'],
      properties: { a: {}, b: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, i: { 'x-kubernetes-int-or-string': true } },
    },
  );
  // Values are not schemas: an enum or default holding `$ref`-like text is left alone.
  assert.deepEqual(toV2Schema({ type: 'string', enum: ['a', 'nullable'], default: 'a', 'x-kubernetes-list-type': 'atomic' }), {
    type: 'string',
    enum: ['a', 'nullable'],
    default: 'a',
    'x-kubernetes-list-type': 'atomic',
  });
});

test('openAPIV2Document turns v3 operations into Swagger 2.0 ones', () => {
  const pods = builtinResources.filter((d) => d.group === '' && d.plural === 'pods') as ServedResource[];
  const v3 = openAPIV3Document('v1', pods, { descriptions: false })!;
  const doc = openAPIV2Document([v3]) as JSONObject;
  assert.equal(doc.swagger, '2.0');
  assert.deepEqual(doc.security, [{ BearerToken: [] }]);
  const create = doc.paths['/api/v1/namespaces/{namespace}/pods'].post;
  assert.equal(create.operationId, 'createCoreV1NamespacedPod');
  assert.equal(create['x-kubernetes-action'], 'post');
  assert.deepEqual(create.consumes, ['*/*']);
  assert.deepEqual(create.produces, ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
  assert.deepEqual(create.schemes, ['https']);
  assert.deepEqual(create.parameters[0], { in: 'body', name: 'body', required: true, schema: { $ref: '#/definitions/io.k8s.api.core.v1.Pod' } });
  assert.deepEqual(
    create.parameters.find((p: JSONObject) => p.name === 'dryRun'),
    { description: v3Param(v3, '/api/v1/namespaces/{namespace}/pods', 'post', 'dryRun').description, in: 'query', name: 'dryRun', type: 'string', uniqueItems: true },
  );
  assert.deepEqual(create.responses['201'], { description: 'Created', schema: { $ref: '#/definitions/io.k8s.api.core.v1.Pod' } });
  assert.deepEqual(create.responses['401'], { description: 'Unauthorized' });
  // Path-level parameters stay on the path item, typed in place.
  assert.deepEqual(doc.paths['/api/v1/namespaces/{namespace}/pods/{name}'].parameters.find((p: JSONObject) => p.name === 'name'), {
    description: 'name of the Pod',
    in: 'path',
    name: 'name',
    required: true,
    type: 'string',
    uniqueItems: true,
  });
  assert.deepEqual(Object.keys(doc.definitions), Object.keys(doc.definitions).sort());
  assert.deepEqual(Object.keys(doc.paths), Object.keys(doc.paths).sort());
});

function v3Param(v3: JSONObject, path: string, method: string, name: string): JSONObject {
  const item = (v3.paths as JSONObject)[path];
  return [...(item.parameters ?? []), ...(item[method].parameters ?? [])].find((p: JSONObject) => p.name === name);
}

test('the document of every built-in resource has no dangling reference and survives the protobuf round trip', () => {
  const v3 = new OpenAPIV3Service(() => builtinResources as ServedResource[]);
  const v2 = new OpenAPIV2Service(v3);
  const doc = v2.document() as JSONObject;
  const text = JSON.stringify(doc);
  for (const ref of new Set(text.match(/"#\/definitions\/[^"]+"/g) ?? [])) assert.ok(doc.definitions[JSON.parse(ref).slice(14)], `dangling ${ref}`);
  assert.ok(!text.includes('#/components/'));
  for (const [name, s] of Object.entries(doc.definitions as Record<string, JSONObject>)) assert.ok(!('oneOf' in s) && !('nullable' in s), name);
  assert.deepEqual(decodeOpenAPIV2(v2.representation('protobuf').body), JSON.parse(v2.representation('json').body.toString('utf8')));
});

test('encodeOpenAPIV2 carries what gnostic carries: vendor extensions, any-typed values, oneofs, maps in order', () => {
  const doc = {
    swagger: '2.0',
    info: { title: 'T', version: 'v', 'x-info': { a: [1, 'b'] } },
    paths: {
      '/a': {
        parameters: [{ $ref: '#/parameters/p' }],
        get: {
          operationId: 'getA',
          parameters: [
            { in: 'query', name: 'limit', type: 'integer', default: 500, maximum: 1000 },
            { in: 'path', name: 'name', required: true, type: 'string' },
            { in: 'header', name: 'X-H', type: 'array', items: { type: 'string' }, collectionFormat: 'csv' },
            { in: 'body', name: 'body', schema: { $ref: '#/definitions/A' } },
          ],
          responses: { '200': { description: 'OK', schema: { type: 'array', items: { $ref: '#/definitions/A' } } }, default: { $ref: '#/responses/r' } },
          'x-kubernetes-action': 'get',
          'x-kubernetes-group-version-kind': { group: '', kind: 'A', version: 'v1' },
        },
      },
      'x-paths': true,
    },
    definitions: {
      B: { type: 'object', additionalProperties: true },
      A: {
        type: 'object',
        required: ['spec'],
        properties: {
          spec: { type: 'object', additionalProperties: { type: 'integer', format: 'int64', minimum: -3, maxLength: 9007199254740991 } },
          mode: { type: 'string', enum: ['On', 'Off', null], default: 'On', 'x-kubernetes-preserve-unknown-fields': false },
          tuple: { type: ['string', 'null'], items: [{ type: 'string' }, { type: 'integer' }] },
        },
        'x-kubernetes-group-version-kind': [{ group: '', kind: 'A', version: 'v1' }],
      },
    },
    securityDefinitions: { BearerToken: { type: 'apiKey', in: 'header', name: 'authorization' }, Basic: { type: 'basic' } },
    security: [{ BearerToken: [] }],
  };
  const back = decodeOpenAPIV2(encodeOpenAPIV2(doc));
  assert.deepEqual(back, doc);
  assert.deepEqual(Object.keys(back.definitions as object), ['B', 'A'], 'definitions keep their order');
});

/** fakeV3 stands for the v3 service: one document whose hash changes with its content. */
function fakeV3(): V3Documents & { schemas: JSONObject } {
  const self = {
    schemas: { A: { type: 'object' } } as JSONObject,
    builds: 0,
    index(): OpenAPIV3Index {
      return { paths: { 'api/v1': { serverRelativeURL: `/openapi/v3/api/v1?hash=${Object.keys(self.schemas).join('')}` } } };
    },
    document(): SerializedDocument {
      return { body: JSON.stringify({ openapi: '3.0.0', paths: {}, components: { schemas: self.schemas } }), etag: Object.keys(self.schemas).join('') };
    },
  };
  return self;
}

test('OpenAPIV2Service rebuilds, with new ETags, when a v3 document changes, and not otherwise', () => {
  const v3 = fakeV3();
  const v2 = new OpenAPIV2Service(v3);
  const first = v2.representation('json');
  assert.equal(v2.representation('json'), first, 'kept while nothing changes');
  v3.schemas = { A: { type: 'object' }, B: { type: 'string' } };
  const second = v2.representation('json');
  assert.notEqual(second.etag, first.etag);
  assert.deepEqual(Object.keys((v2.document() as JSONObject).definitions), ['A', 'B']);
  assert.ok(second.lastModified > first.lastModified);
});

test('openAPIV2Response negotiates as kube-openapi does and answers If-None-Match with 304', () => {
  const v2 = new OpenAPIV2Service(fakeV3());
  const json = v2.representation('json');
  const pb = v2.representation('protobuf');
  const cases: [string | undefined, number, string | undefined][] = [
    [undefined, 200, 'application/json'],
    ['*/*', 200, 'application/json'],
    ['application/*', 200, 'application/json'],
    ['text/html', 406, undefined],
    ['application/test, */*', 200, 'application/json'],
    [openAPIV2ProtobufType, 200, openAPIV2LegacyProtobufType],
    [openAPIV2LegacyProtobufType, 200, openAPIV2LegacyProtobufType],
    [`application/json, ${openAPIV2ProtobufType}`, 200, 'application/json'],
    [`${openAPIV2ProtobufType}, application/json`, 200, openAPIV2LegacyProtobufType],
    [`${openAPIV2ProtobufType};q=0.5, application/json`, 200, 'application/json'],
  ];
  for (const [accept, status, type] of cases) {
    const r = openAPIV2Response(v2, { accept });
    assert.equal(r.status, status, String(accept));
    assert.equal(r.headers['Content-Type'], type, String(accept));
    assert.equal(r.headers.Vary, 'Accept');
    if (type) assert.deepEqual(r.body, type === 'application/json' ? json.body : pb.body);
  }
  const hit = openAPIV2Response(v2, { accept: openAPIV2ProtobufType, ifNoneMatch: `"${pb.etag}"` });
  assert.equal(hit.status, 304);
  assert.equal(hit.body, undefined);
  assert.equal(hit.headers.Etag, `"${pb.etag}"`);
  assert.equal(openAPIV2Response(v2, { accept: 'application/json', ifNoneMatch: `"${pb.etag}"` }).status, 200, "the protobuf ETag is not the JSON one's");
  assert.equal(openAPIV2Response(v2, { ifModifiedSince: new Date(json.lastModified.getTime() + 5000).toUTCString() }).status, 304);
  assert.equal(openAPIV2Response(v2, { ifModifiedSince: new Date(json.lastModified.getTime() - 5000).toUTCString() }).status, 200);
});
