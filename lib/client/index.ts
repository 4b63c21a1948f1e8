// The API client skiff's own processes use: RestClient (real) and FakeClient (tests), resource
// names taken from lib/api's declarations, and an EventRecorder.
export * from './client.js';
export * from './resources.js';
export { type EventType, type InvolvedObject, type Recorder, EventRecorder } from './events.js';
export { type Action, type Reactor, FakeClient } from './fake.js';
