// trimObject is the simulator's transform of every object it keeps (client-go's TransformFunc,
// as kube-scheduler uses it): managedFields and kubectl's last-applied annotation are dropped,
// since the simulator never reads them and they are often most of an object's size.

const lastApplied = 'kubectl.kubernetes.io/last-applied-configuration';

/** trimObject drops what the simulator never reads from an object it is about to keep; it returns obj. */
export function trimObject<T>(obj: T): T {
  const meta = (obj as { metadata?: { managedFields?: unknown; annotations?: Record<string, string> } } | undefined)?.metadata;
  if (meta) {
    delete meta.managedFields;
    if (meta.annotations && lastApplied in meta.annotations) delete meta.annotations[lastApplied];
  }
  return obj;
}
