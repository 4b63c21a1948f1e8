// The finalizer tests the pvc-protection and pv-protection controllers share (kube's
// pkg/controller/volume/protectionutil).

/** ProtectedObject is what the tests read: the deletion mark and the finalizers. */
interface ProtectedObject {
  metadata: { deletionTimestamp?: string; finalizers?: string[] };
}

/** isDeletionCandidate: obj is marked for deletion and still holds finalizer. */
export function isDeletionCandidate(obj: ProtectedObject, finalizer: string): boolean {
  return !!obj.metadata.deletionTimestamp && (obj.metadata.finalizers ?? []).includes(finalizer);
}

/** needToAddFinalizer: obj is not marked for deletion and lacks finalizer. */
export function needToAddFinalizer(obj: ProtectedObject, finalizer: string): boolean {
  return !obj.metadata.deletionTimestamp && !(obj.metadata.finalizers ?? []).includes(finalizer);
}
