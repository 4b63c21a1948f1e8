// The labels and annotations the kubelet puts on CRI sandboxes and containers, with the same
// keys as Kubernetes' kubelet (pkg/kubelet/types/labels.go and kuberuntime/labels.go). Every
// part of skiff's kubelet (pod sync, the streaming server, adoption after a restart, `skiff
// image`/cleanup tools) finds a pod's runtime objects through these keys and nothing else.

/** PodNameLabel is the pod's metadata.name, on sandboxes and containers. */
export const PodNameLabel = 'io.kubernetes.pod.name';
/** PodNamespaceLabel is the pod's metadata.namespace, on sandboxes and containers. */
export const PodNamespaceLabel = 'io.kubernetes.pod.namespace';
/** PodUIDLabel is the pod's metadata.uid, on sandboxes and containers. */
export const PodUIDLabel = 'io.kubernetes.pod.uid';
/** ContainerNameLabel is the container's name in the pod spec, on containers. */
export const ContainerNameLabel = 'io.kubernetes.container.name';
/** ContainerRestartCountAnnotation is the container's restart count when it was created. */
export const ContainerRestartCountAnnotation = 'io.kubernetes.container.restartCount';
/** ContainerHashAnnotation is a hash of the container's spec, to spot a changed spec. */
export const ContainerHashAnnotation = 'io.kubernetes.container.hash';
/** ContainerTerminationMessagePathAnnotation is where the termination message is read from. */
export const ContainerTerminationMessagePathAnnotation = 'io.kubernetes.container.terminationMessagePath';
/** ContainerTerminationMessagePolicyAnnotation is File or FallbackToLogsOnError. */
export const ContainerTerminationMessagePolicyAnnotation = 'io.kubernetes.container.terminationMessagePolicy';
/** PodTerminationGracePeriodAnnotation is the pod's grace period, for stops after a restart. */
export const PodTerminationGracePeriodAnnotation = 'io.kubernetes.pod.terminationGracePeriod';
/** ContainerPreStopHandlerAnnotation is the container's preStop handler (JSON), for stops after a restart. */
export const ContainerPreStopHandlerAnnotation = 'io.kubernetes.container.preStopHandler';
/** KubernetesManagedLabel marks sandboxes the kubelet created ("true"). */
export const KubernetesManagedLabel = 'io.kubernetes.managed';
/** InitContainerLabel is skiff's own mark on init containers ("true"), so adoption can tell them apart. */
export const InitContainerLabel = 'skiff.dev/init-container';

/** podLogsDirName is a pod's log directory under the node's pod log root: <ns>_<name>_<uid>. */
export function podLogsDirName(namespace: string, name: string, uid: string): string {
  return `${namespace}_${name}_${uid}`;
}

/** containerLogPath is a container's log file relative to the pod's log directory: <name>/<restartCount>.log. */
export function containerLogPath(containerName: string, restartCount: number): string {
  return `${containerName}/${restartCount}.log`;
}
