import { Emitter } from './emitter';

export interface CacheOptions {
  maxEntries: number;
  onEvict?: (key: string) => void;
}

/** A least-recently-used cache backed by a Map's insertion order. */
export class LruCache<V> {
  private readonly entries = new Map<string, V>();
  readonly events = new Emitter<{ evict: string; hit: string; miss: string }>();

  constructor(private readonly options: CacheOptions) {
    if (options.maxEntries < 1) throw new RangeError('maxEntries must be at least 1');
  }

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) {
      this.events.emit('miss', key);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, value);
    this.events.emit('hit', key);
    return value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.options.maxEntries) this.evictOldest();
  }

  private evictOldest(): void {
    const oldest = this.entries.keys().next().value as string;
    this.entries.delete(oldest);
    this.options.onEvict?.(oldest);
    this.events.emit('evict', oldest);
  }

  get size(): number {
    return this.entries.size;
  }
}
