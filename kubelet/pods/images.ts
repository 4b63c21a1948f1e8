// Images for the pod workers, as the kubelet's image manager (EnsureImageExists) handles them:
// ImageStatus first (CRI PullImage always goes to the registry), a pull for imagePullPolicy
// Always or a missing image unless the policy is Never, and a back-off per pod and image after a
// failed pull (10 s doubling to 5 min): ErrImagePull, then ImagePullBackOff with the registry's
// message, with the kubelet's events (Pulling, Pulled, Failed, BackOff, ErrImageNeverPull).
// A pull uses the credentials of the pod's imagePullSecrets that match the image's registry
// (credentials.ts), trying each in turn as the kubelet does, and none when none matches.

import type { Pod } from '../../lib/api/core/pod.js';
import { imagePullPolicyFor } from '../../lib/api/core/podspec.js';
import type { Container } from '../../lib/api/core/types.js';
import type { EventType } from '../../lib/client/events.js';
import { goDuration } from '../../lib/machinery/duration.js';
import { InitialContainerBackOffMs, MaxContainerBackOffMs } from '../../lib/pod/backoff.js';
import type { Secret } from '../../lib/api/core/secret.js';
import type { CriClient } from '../cri/client.js';
import { pullCredentials } from './credentials.js';
import { grpcMessage, StartError } from './errors.js';

/** ImagePuller makes sure a container's image is on the node, with the kubelet's pull back-off. */
export class ImagePuller {
  /** backOff is the pull back-off by <pod uid>_<image>. */
  private readonly backOff = new Map<string, { delayMs: number; until: number; message: string }>();

  constructor(
    private readonly opts: {
      runtime: Pick<CriClient, 'imageStatus' | 'pullImage'>;
      event(pod: Pod, type: EventType, reason: string, message: string): void;
      /** now is wall time in epoch ms. */
      now(): number;
      /** pullSecrets are the pod's imagePullSecrets that exist (absent: none). */
      pullSecrets?(pod: Pod): Promise<Secret[]>;
    },
  ) {}

  /** nextRetry is when a pull held back for the pod may be tried again (undefined: none waits). */
  nextRetry(podUID: string): number | undefined {
    let next: number | undefined;
    for (const [key, b] of this.backOff) {
      if (key.startsWith(`${podUID}_`) && b.until > this.opts.now() && (next === undefined || b.until < next)) next = b.until;
    }
    return next;
  }

  /** forgetPod drops the pod's back-offs. */
  forgetPod(podUID: string): void {
    for (const key of [...this.backOff.keys()]) if (key.startsWith(`${podUID}_`)) this.backOff.delete(key);
  }

  /** ensureImage returns the image's id, pulling it as the policy says; a failure throws StartError (ErrImagePull, ImagePullBackOff, ErrImageNeverPull). */
  async ensureImage(pod: Pod, c: Container): Promise<string> {
    const image = c.image ?? '';
    const policy = c.imagePullPolicy || imagePullPolicyFor(image);
    let present;
    try {
      present = await this.opts.runtime.imageStatus(image);
    } catch (err) {
      throw new StartError('ImageInspectError', `Failed to inspect image "${image}": ${grpcMessage(err)}`);
    }
    if (policy === 'Never' && !present) {
      const message = `Container image "${image}" is not present with pull policy of Never`;
      this.opts.event(pod, 'Warning', 'ErrImageNeverPull', message);
      throw new StartError('ErrImageNeverPull', message, 'Error: ErrImageNeverPull');
    }
    if (present && policy !== 'Always') {
      this.opts.event(pod, 'Normal', 'Pulled', `Container image "${image}" already present on machine`);
      return present.id;
    }
    const key = `${pod.metadata.uid}_${image}`;
    const bo = this.backOff.get(key);
    if (bo && this.opts.now() < bo.until) {
      this.opts.event(pod, 'Normal', 'BackOff', `Back-off pulling image "${image}"`);
      throw new StartError('ImagePullBackOff', `Back-off pulling image "${image}": ErrImagePull: ${bo.message}`, 'Error: ImagePullBackOff');
    }
    this.opts.event(pod, 'Normal', 'Pulling', `Pulling image "${image}"`);
    const t0 = this.opts.now();
    try {
      const ref = await this.pull(pod, image);
      this.backOff.delete(key);
      const took = goDuration(this.opts.now() - t0);
      const size = (await this.opts.runtime.imageStatus(ref).catch(() => undefined))?.size ?? '0';
      this.opts.event(pod, 'Normal', 'Pulled', `Successfully pulled image "${image}" in ${took} (${took} including waiting). Image size: ${size} bytes.`);
      return (await this.opts.runtime.imageStatus(ref).catch(() => undefined))?.id ?? ref;
    } catch (err) {
      const message = grpcMessage(err);
      const delayMs = bo ? Math.min(bo.delayMs * 2, MaxContainerBackOffMs) : InitialContainerBackOffMs;
      this.backOff.set(key, { delayMs, until: this.opts.now() + delayMs, message });
      this.opts.event(pod, 'Warning', 'Failed', `Failed to pull image "${image}": ${message}`);
      throw new StartError('ErrImagePull', message, 'Error: ErrImagePull');
    }
  }

  /**
   * pull pulls the image with each matching credential of the pod's pull secrets in turn until
   * one succeeds (without credentials when none matches); all failing, the error names each.
   */
  private async pull(pod: Pod, image: string): Promise<string> {
    const creds = pullCredentials(image, (await this.opts.pullSecrets?.(pod)) ?? []);
    if (!creds.length) return this.opts.runtime.pullImage(image);
    const errors: unknown[] = [];
    for (const auth of creds) {
      try {
        return await this.opts.runtime.pullImage(image, auth);
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    throw new Error(`[${errors.map((e) => grpcMessage(e)).join(', ')}]`);
  }
}
