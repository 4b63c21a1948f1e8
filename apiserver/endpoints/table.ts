// Table output (meta.k8s.io/v1 Table): what `kubectl get` prints is computed here, on the server,
// from the kind's declared printer columns, as kube-apiserver's printers do.

import type { KubeObject } from '../../lib/api/meta.js';
import type { PrinterColumn, ResourceDefinition } from '../../lib/api/resource.js';
import { age } from '../../lib/machinery/duration.js';

export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface Table {
  kind: 'Table';
  apiVersion: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: TableColumnDefinition[];
  rows: { cells: unknown[]; object?: unknown }[];
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** defaultColumns are used for kinds that declare none (as for CRDs without printer columns). */
const defaultColumns: PrinterColumn[] = [
  { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', cell: (o) => o.metadata.name },
  { name: 'Age', type: 'date', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', cell: (o, now) => age(o.metadata.creationTimestamp, now) },
];

export function columnsOf(def: ResourceDefinition): PrinterColumn[] {
  return def.printerColumns && def.printerColumns.length ? (def.printerColumns as PrinterColumn[]) : defaultColumns;
}

export function partialObjectMetadata(obj: KubeObject, version: string): KubeObject {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: obj.metadata };
}

export function toTable(
  def: ResourceDefinition,
  objects: KubeObject[],
  opts: { tableVersion: string; includeObject: IncludeObject; now: Date; listMeta?: Table['metadata']; noHeaders?: boolean },
): Table {
  const cols = columnsOf(def);
  const rows = objects.map((obj) => {
    const cells = cols.map((c) => {
      let v: unknown;
      try {
        v = c.cell(obj, opts.now);
      } catch {
        v = '<unknown>';
      }
      return v === undefined ? null : v;
    });
    const row: { cells: unknown[]; object?: unknown } = { cells };
    if (opts.includeObject === 'Object') row.object = obj;
    else if (opts.includeObject === 'Metadata') row.object = partialObjectMetadata(obj, opts.tableVersion);
    return row;
  });
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${opts.tableVersion}`,
    metadata: opts.listMeta ?? {},
    columnDefinitions: opts.noHeaders
      ? []
      : cols.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 })),
    rows,
  };
}
