/**
 * BM25 over FTS4 `matchinfo(fts, 'pcnalx')`. FTS4 has no built-in ranking function (FTS5's
 * `bm25()` is not compiled into sql.js), so the store registers this as a SQL function.
 *
 * The blob holds 32-bit unsigned integers: p (phrases), c (columns), n (rows), a[c] (mean
 * tokens per column), l[c] (tokens in this row's columns), then for each phrase and column
 * x = (hits in this row, hits in all rows, rows with a hit).
 */
export function bm25(matchinfo: Uint8Array, weights: readonly number[], k1 = 1.2, b = 0.75): number {
  const words = new Uint32Array(matchinfo.buffer, matchinfo.byteOffset, matchinfo.byteLength >>> 2);
  const p = words[0] ?? 0;
  const c = words[1] ?? 0;
  const n = words[2] ?? 0;
  const aAt = 3;
  const lAt = 3 + c;
  const xAt = 3 + 2 * c;
  let score = 0;
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < c; j++) {
      const base = xAt + 3 * (i * c + j);
      const tf = words[base] ?? 0;
      if (tf === 0) continue;
      const df = words[base + 2] ?? 0;
      // Lucene's non-negative IDF: a term in most rows still counts a little.
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      const avg = words[aAt + j] || 1;
      const len = words[lAt + j] ?? 0;
      const norm = tf + k1 * (1 - b + (b * len) / avg);
      score += (weights[j] ?? 1) * idf * ((tf * (k1 + 1)) / norm);
    }
  }
  return score;
}

/** Column weights of `chunks_fts` (content, fqn, file_path): a hit in a name counts most. @internal */
export const FTS_WEIGHTS: readonly number[] = [1, 2, 0.5];
