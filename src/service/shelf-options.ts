import { ShelfError } from '../errors/index.ts';
import { resolveOptions } from '../search/search-options.ts';
import type { ShelfOptions } from './storage-service.ts';

const DURABILITIES: readonly string[] = ['default', 'strict', 'relaxed'];

function invalid(message: string): never {
  throw new ShelfError('INVALID_ARGUMENT', message);
}

/** The group of options at `where`: `{}` when undefined, `INVALID_ARGUMENT` for null and non-objects. */
function group(value: unknown, where: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    invalid(`${where} must be an object or undefined, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  }
  return value as Record<string, unknown>;
}

function milliseconds(value: unknown, where: string, { infinite = false } = {}): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || (!infinite && !Number.isFinite(value))) {
    invalid(`${where} must be a non-negative ${infinite ? '' : 'finite '}number of milliseconds, got ${String(value)}`);
  }
}

/**
 * Checks the options of `openShelf()` as a whole before anything is started or opened, so
 * that a bad option fails `openShelf` itself with `INVALID_ARGUMENT` naming it, instead of
 * a store that opens lazily (snapshots, the search worker) failing on first use, or a
 * `null` group reaching a destructuring as a bare `TypeError`. The page runs it before
 * starting the storage worker; the worker runs it again in `open()`. Fields of `logs` and
 * `collections` are checked by the stores themselves, which the worker opens in `open()`.
 * @internal
 */
export function checkShelfOptions(options: ShelfOptions): void {
  if (options === undefined) invalid('options must be an object with a name');
  const o = group(options, 'options');
  if (typeof o['name'] !== 'string' || !o['name']) invalid(`options.name must be a non-empty string, got ${JSON.stringify(o['name'])}`);
  // Shelf "x" keeps its search index in the IndexedDB database of a shelf named "x:search"
  // (`codeshelf:x:search:kv`): such a name would share it, mixing the two.
  if (o['name'].endsWith(':search')) {
    invalid(`options.name must not end with ":search" (that database holds the search index of shelf ${JSON.stringify(o['name'].slice(0, -':search'.length))}), got ${JSON.stringify(o['name'])}`);
  }
  if (o['memory'] !== undefined && typeof o['memory'] !== 'boolean') invalid(`options.memory must be a boolean, got ${typeof o['memory']}`);
  if (o['durability'] !== undefined && !DURABILITIES.includes(o['durability'] as string)) {
    invalid(`options.durability must be one of ${DURABILITIES.join(', ')}, got ${JSON.stringify(o['durability'])}`);
  }
  group(o['logs'], 'options.logs');
  const collections = group(o['collections'], 'options.collections');
  if (collections['storage'] !== undefined && collections['storage'] !== 'opfs' && collections['storage'] !== 'kv') {
    invalid(`options.collections.storage must be 'opfs' or 'kv', got ${JSON.stringify(collections['storage'])}`);
  }
  const snapshots = group(o['snapshots'], 'options.snapshots');
  const checkpointBytes = snapshots['checkpointBytes'];
  if (checkpointBytes !== undefined && (typeof checkpointBytes !== 'number' || !Number.isFinite(checkpointBytes) || checkpointBytes <= 0)) {
    invalid(`options.snapshots.checkpointBytes must be a positive number, got ${String(checkpointBytes)}`);
  }
  if (snapshots['maintenanceDelayMs'] !== false) milliseconds(snapshots['maintenanceDelayMs'], 'options.snapshots.maintenanceDelayMs');
  milliseconds(snapshots['maintenanceMaxDelayMs'], 'options.snapshots.maintenanceMaxDelayMs');
  checkSearchOptions(o['search']);
}

/** The search part of {@link checkShelfOptions}: what the page's watchdog and the search worker will use. @internal */
export function checkSearchOptions(value: unknown): void {
  const { watchdogGraceMs, preload, ...index } = group(value, 'options.search');
  // Infinity: the page never restarts the worker for a slow query.
  milliseconds(watchdogGraceMs, 'options.search.watchdogGraceMs', { infinite: true });
  if (preload !== undefined && typeof preload !== 'boolean') invalid(`options.search.preload must be a boolean, got ${typeof preload}`);
  group(index['merge'], 'options.search.merge');
  try {
    resolveOptions(index as Parameters<typeof resolveOptions>[0]);
  } catch (error) {
    if (!(error instanceof ShelfError)) throw error;
    throw new ShelfError(error.code, error.message.replace(/^options\./, 'options.search.'), { cause: error.cause });
  }
}
