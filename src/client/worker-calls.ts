import { ShelfError } from '../errors/index.ts';

/**
 * Rejects when `worker` reports an error (it failed to load), so a caller racing it
 * against the worker's first answer never waits forever. `label` names the worker in the
 * message ("storage", "search"). An error event after a successful start does not surface
 * as an unhandled rejection.
 */
export function workerFailure(worker: Worker, label: string): Promise<never> {
  const failed = new Promise<never>((_, reject) => {
    worker.addEventListener('error', (event: Event) => {
      event.preventDefault();
      const message = (event as ErrorEvent).message;
      reject(new ShelfError('INTERNAL', `${label} worker failed to start: ${message || 'unknown error'}`));
    }, { once: true });
  });
  failed.catch(() => undefined);
  return failed;
}

/**
 * `call`, or the error a rejecter in `pending` is called with first: how a call to a
 * worker that is terminated (and so will never answer) fails instead of hanging. The
 * rejecter leaves `pending` once the call settles.
 */
export function failWith<T>(pending: Set<(error: ShelfError) => void>, call: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    pending.add(reject);
    call.then(resolve, reject).finally(() => pending.delete(reject));
  });
}
