// The API client skiff's own processes use: RestClient, resource names taken from lib/api's
// declarations, and an EventRecorder. Its test double, FakeClient, is in lib/testing/fakeclient.ts.
export * from './client.js';
export * from './resources.js';
export { type EventType, type InvolvedObject, type Recorder, EventRecorder } from './events.js';
export { type WatchCallback, type WatchQuery, type Watcher, ExactWatch } from './watch.js';
export { type Cluster, type ClusterAccess, type Context, type User, ClientConfig, KubeconfigError, loadClientConfig } from './kubeconfig.js';
