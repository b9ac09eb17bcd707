import type { LruCache } from './lru-cache';

export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
}

/** Counts cache events until the returned function is called. */
export function trackStats<V>(cache: LruCache<V>): { stats: CacheStats; stop: () => void } {
  const stats: CacheStats = { hits: 0, misses: 0, evictions: 0 };
  const offs = [
    cache.events.on('hit', () => stats.hits++),
    cache.events.on('miss', () => stats.misses++),
    cache.events.on('evict', () => stats.evictions++),
  ];
  return { stats, stop: () => offs.forEach((off) => off()) };
}

export function formatStats(stats: CacheStats): string {
  const total = stats.hits + stats.misses;
  const rate = total === 0 ? 0 : (stats.hits / total) * 100;
  return `${stats.hits} hits, ${stats.misses} misses (${rate.toFixed(1)}%), ${stats.evictions} evictions`;
}
