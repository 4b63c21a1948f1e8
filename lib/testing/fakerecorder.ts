// Test-only: nothing outside *.test.ts and test helpers may import this module.

import type { EventType, InvolvedObject, Recorder } from '../client/events.js';

/** FakeRecorder is a Recorder that keeps each event as one line, `<type> <reason> <message>` (client-go's FakeRecorder form). Test-only. */
export class FakeRecorder implements Recorder {
  /** events are the recorded lines, oldest first. */
  readonly events: string[] = [];

  /** event records one line instead of writing an Event. */
  event(_obj: InvolvedObject, type: EventType, reason: string, message: string): void {
    this.events.push(`${type} ${reason} ${message}`);
  }
}
