// The work queue: client-go's rate-limited workqueue semantics for skiff's controllers.
export {
  type RateLimiter,
  BucketRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  defaultControllerRateLimiter,
} from './ratelimiter.js';
export { type QueueMetrics, type QueueOptions, RateLimitingQueue } from './queue.js';
export { promQueueMetrics } from './metrics.js';
