// The OpenAPI definition names of the apimachinery types that have no client-node model of their
// own, in a module of their own so that the Go-tag tables and the name rules can both use them.

/** metaPackage is the definition-name package of meta/v1. */
export const metaPackage = 'io.k8s.apimachinery.pkg.apis.meta';

// Definition names of the apimachinery types that have no client-node model of their own.
export const QuantityDefinition = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
export const IntOrStringDefinition = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
export const TimeDefinition = `${metaPackage}.v1.Time`;
export const MicroTimeDefinition = `${metaPackage}.v1.MicroTime`;
export const RawExtensionDefinition = 'io.k8s.apimachinery.pkg.runtime.RawExtension';
export const FieldsV1Definition = `${metaPackage}.v1.FieldsV1`;
export const PatchDefinition = `${metaPackage}.v1.Patch`;
