// The protobuf form of /openapi/v2: gnostic's openapi_v2.Document, which is what kubectl and
// client-go's discovery client ask for (`Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`)
// and parse before building the models of client-side validation. encodeOpenAPIV2 writes a Swagger
// 2.0 JSON document as that message, as gnostic's NewDocument would read the same JSON:
// objects keyed by name become repeated Named* entries in document order, `x-` keys become
// vendor_extension, `$ref` is `_ref`, and a value of any JSON type (default, enum, example, a
// vendor extension's value) is an Any holding its YAML text. decodeOpenAPIV2 is the inverse.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import YAML from 'yaml';

/** openAPIV2ProtobufType is the media type kubectl asks /openapi/v2 for. */
export const openAPIV2ProtobufType = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

/** openAPIV2LegacyProtobufType is the spelling without `@` that kube-openapi also answers to, and names its protobuf responses with. */
export const openAPIV2LegacyProtobufType = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

/**
 * protoFile is OpenAPIv2.proto: beside the other .proto folders when running from the source
 * tree, else under the package root (the build does not copy .proto files into dist/).
 */
function protoFile(): string {
  const here = fileURLToPath(new URL('../protobuf/openapiv2/OpenAPIv2.proto', import.meta.url));
  if (existsSync(here)) return here;
  return fileURLToPath(new URL('../../../apiserver/protobuf/openapiv2/OpenAPIv2.proto', import.meta.url));
}

function loadSchema(): protobuf.Root {
  const root = new protobuf.Root();
  root.loadSync(protoFile(), { keepCase: true });
  root.resolveAll();
  return root;
}

// Parsed at start: a missing or broken .proto file stops the API server instead of failing the
// first request.
const schema = loadSchema();
const DocumentType = schema.lookupType('openapi.v2.Document');

type JSONObject = Record<string, unknown>;
type Msg = Record<string, unknown>;

const isObject = (v: unknown): v is JSONObject => !!v && typeof v === 'object' && !Array.isArray(v);

/** jsonName is a field's Swagger name: `operation_id` → `operationId`, `_ref` → `$ref`. */
function jsonName(field: string): string {
  if (field === '_ref') return '$ref';
  return field.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** namedMapField is the repeated Named* field of a message that stands for a JSON object keyed by name. */
function namedMapField(type: protobuf.Type): protobuf.Field | undefined {
  const fields = type.fieldsArray;
  if (fields.length === 1 && fields[0].repeated && fields[0].name === 'additional_properties') return fields[0];
  return undefined;
}

/** oneofChoice picks the member of a oneof message that a JSON value is, as gnostic decides. */
function oneofChoice(typeName: string, v: unknown): string | undefined {
  const o = isObject(v) ? v : {};
  switch (typeName) {
    case 'ParametersItem':
    case 'ResponseValue':
      return '$ref' in o ? 'json_reference' : typeName === 'ParametersItem' ? 'parameter' : 'response';
    case 'Parameter':
      return o.in === 'body' ? 'body_parameter' : 'non_body_parameter';
    case 'NonBodyParameter':
      return { header: 'header_parameter_sub_schema', formData: 'form_data_parameter_sub_schema', query: 'query_parameter_sub_schema', path: 'path_parameter_sub_schema' }[String(o.in)];
    case 'SchemaItem':
      return o.type === 'file' ? 'file_schema' : 'schema';
    case 'AdditionalPropertiesItem':
      return typeof v === 'boolean' ? 'boolean' : 'schema';
    case 'SecurityDefinitionsItem':
      if (o.type === 'basic') return 'basic_authentication_security';
      if (o.type === 'apiKey') return 'api_key_security';
      return { implicit: 'oauth2_implicit_security', password: 'oauth2_password_security', application: 'oauth2_application_security', accessCode: 'oauth2_access_code_security' }[String(o.flow)];
  }
  return undefined;
}

const anyOf = (v: unknown): Msg => ({ yaml: YAML.stringify(v) });

/** toMessage turns the JSON value of one message type into protobufjs' plain form of it. */
function toMessage(type: protobuf.Type, v: unknown): Msg {
  const name = type.name;
  if (name === 'Any') return anyOf(v);
  if (name === 'TypeItem') return { value: Array.isArray(v) ? v : [v] };
  if (name === 'ItemsItem') return { schema: (Array.isArray(v) ? v : [v]).map((s) => toMessage(type.fields.schema.resolvedType as protobuf.Type, s)) };
  if (name === 'StringArray') return { value: v };
  if (type.oneofsArray.length) {
    const choice = oneofChoice(name, v);
    if (!choice) return {};
    const field = type.fields[choice];
    return { [choice]: field.resolvedType ? toMessage(field.resolvedType as protobuf.Type, v) : v };
  }
  const map = namedMapField(type);
  if (map) return { [map.name]: namedEntries(map, v as JSONObject, () => true) };
  const o = v as JSONObject;
  const out: Msg = {};
  for (const field of type.fieldsArray) {
    if (field.name === 'vendor_extension') {
      const ext = namedEntries(field, o, (k) => k.startsWith('x-'));
      if (ext.length) out[field.name] = ext;
      continue;
    }
    // Paths and Responses are JSON objects whose non-`x-` keys are the entries.
    if ((name === 'Paths' && field.name === 'path') || (name === 'Responses' && field.name === 'response_code')) {
      out[field.name] = namedEntries(field, o, (k) => !k.startsWith('x-'));
      continue;
    }
    const value = o[jsonName(field.name)];
    if (value === undefined) continue;
    const sub = field.resolvedType as protobuf.Type | null;
    if (!sub) out[field.name] = value;
    else if (field.repeated) out[field.name] = (value as unknown[]).map((e) => toMessage(sub, e));
    else out[field.name] = toMessage(sub, value);
  }
  return out;
}

/** namedEntries writes the keys of a JSON object that `keep` accepts as Named* messages. */
function namedEntries(field: protobuf.Field, o: JSONObject, keep: (k: string) => boolean): Msg[] {
  const named = field.resolvedType as protobuf.Type;
  const valueField = named.fields.value;
  const valueType = valueField.resolvedType as protobuf.Type | null;
  return Object.entries(o)
    .filter(([k]) => keep(k))
    .map(([k, v]) => ({ name: k, value: valueType ? toMessage(valueType, v) : v }));
}

/** encodeOpenAPIV2 writes a Swagger 2.0 JSON document as an openapi_v2.Document. */
export function encodeOpenAPIV2(doc: JSONObject): Buffer {
  const msg = DocumentType.fromObject(toMessage(DocumentType, doc));
  return Buffer.from(DocumentType.encode(msg).finish());
}

/** fromMessage is toMessage's inverse, from protobufjs' plain form (longs as numbers, no defaults). */
function fromMessage(type: protobuf.Type, m: Msg): unknown {
  const name = type.name;
  if (name === 'Any') return YAML.parse(String(m.yaml ?? ''));
  if (name === 'TypeItem') {
    const v = (m.value as string[]) ?? [];
    return v.length === 1 ? v[0] : v;
  }
  if (name === 'ItemsItem') {
    const v = ((m.schema as Msg[]) ?? []).map((s) => fromMessage(type.fields.schema.resolvedType as protobuf.Type, s));
    return v.length === 1 ? v[0] : v;
  }
  if (name === 'StringArray') return m.value ?? [];
  if (type.oneofsArray.length) {
    const choice = type.oneofsArray[0].fieldsArray.find((f) => m[f.name] !== undefined);
    if (!choice) return {};
    return choice.resolvedType ? fromMessage(choice.resolvedType as protobuf.Type, m[choice.name] as Msg) : m[choice.name];
  }
  const map = namedMapField(type);
  if (map) return fromNamed(map, m[map.name] as Msg[] | undefined);
  const out: JSONObject = {};
  for (const field of type.fieldsArray) {
    const value = m[field.name];
    if (value === undefined) continue;
    if (field.name === 'vendor_extension' || (name === 'Paths' && field.name === 'path') || (name === 'Responses' && field.name === 'response_code')) {
      Object.assign(out, fromNamed(field, value as Msg[]));
      continue;
    }
    if (field.repeated && (value as unknown[]).length === 0) continue;
    const sub = field.resolvedType as protobuf.Type | null;
    if (!sub) out[jsonName(field.name)] = value;
    else if (field.repeated) out[jsonName(field.name)] = (value as Msg[]).map((e) => fromMessage(sub, e));
    else out[jsonName(field.name)] = fromMessage(sub, value as Msg);
  }
  return out;
}

function fromNamed(field: protobuf.Field, entries: Msg[] | undefined): JSONObject {
  const named = field.resolvedType as protobuf.Type;
  const valueType = named.fields.value.resolvedType as protobuf.Type | null;
  const out: JSONObject = {};
  for (const e of entries ?? []) out[String(e.name)] = valueType ? fromMessage(valueType, (e.value as Msg) ?? {}) : e.value;
  return out;
}

/** decodeOpenAPIV2 reads an openapi_v2.Document back into Swagger 2.0 JSON (zero values, which proto3 does not carry, stay absent). */
export function decodeOpenAPIV2(bytes: Uint8Array): JSONObject {
  const msg = DocumentType.decode(bytes);
  const plain = DocumentType.toObject(msg, { longs: Number, arrays: false, defaults: false, oneofs: false }) as Msg;
  return fromMessage(DocumentType, plain) as JSONObject;
}
