/** One entry of {@link TopK}. @internal */
export interface Ranked {
  readonly score: number;
  readonly docNum: number;
  readonly view: number;
  readonly local: number;
}

/**
 * The best `k` (score, document) pairs seen, in a binary min-heap over typed arrays: offering
 * a document costs O(log k) and no allocation, so scoring 100k matches keeps only `k`
 * entries. Ties go to the lower doc number (older document) for a stable order.
 * @internal
 */
export class TopK {
  readonly #k: number;
  readonly #scores: Float64Array;
  readonly #docNums: Float64Array;
  readonly #views: Int32Array;
  readonly #locals: Int32Array;
  #size = 0;

  constructor(k: number) {
    this.#k = k;
    const cap = Math.min(k, 1 << 20);
    this.#scores = new Float64Array(cap);
    this.#docNums = new Float64Array(cap);
    this.#views = new Int32Array(cap);
    this.#locals = new Int32Array(cap);
  }

  get size(): number {
    return this.#size;
  }

  /** True when `score`/`docNum` would rank below everything kept (and the heap is full). */
  wouldReject(score: number, docNum: number): boolean {
    if (this.#size < this.#scores.length) return false;
    const s = this.#scores[0]!;
    return score < s || (score === s && docNum > this.#docNums[0]!);
  }

  offer(score: number, docNum: number, view: number, local: number): void {
    if (this.#k === 0 || this.#scores.length === 0) return;
    if (this.#size < this.#scores.length) {
      let i = this.#size++;
      this.#put(i, score, docNum, view, local);
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.#worse(i, parent)) break;
        this.#swap(i, parent);
        i = parent;
      }
      return;
    }
    if (this.wouldReject(score, docNum)) return;
    this.#put(0, score, docNum, view, local);
    let i = 0;
    for (;;) {
      const l = i * 2 + 1;
      const r = l + 1;
      let m = i;
      if (l < this.#size && this.#worse(l, m)) m = l;
      if (r < this.#size && this.#worse(r, m)) m = r;
      if (m === i) break;
      this.#swap(i, m);
      i = m;
    }
  }

  /** Everything kept, best first. */
  sorted(): Ranked[] {
    const out: Ranked[] = [];
    for (let i = 0; i < this.#size; i++) {
      out.push({ score: this.#scores[i]!, docNum: this.#docNums[i]!, view: this.#views[i]!, local: this.#locals[i]! });
    }
    return out.sort((a, b) => b.score - a.score || a.docNum - b.docNum);
  }

  #worse(a: number, b: number): boolean {
    const sa = this.#scores[a]!;
    const sb = this.#scores[b]!;
    return sa < sb || (sa === sb && this.#docNums[a]! > this.#docNums[b]!);
  }

  #put(i: number, score: number, docNum: number, view: number, local: number): void {
    this.#scores[i] = score;
    this.#docNums[i] = docNum;
    this.#views[i] = view;
    this.#locals[i] = local;
  }

  #swap(a: number, b: number): void {
    const s = this.#scores[a]!;
    this.#scores[a] = this.#scores[b]!;
    this.#scores[b] = s;
    const d = this.#docNums[a]!;
    this.#docNums[a] = this.#docNums[b]!;
    this.#docNums[b] = d;
    const v = this.#views[a]!;
    this.#views[a] = this.#views[b]!;
    this.#views[b] = v;
    const l = this.#locals[a]!;
    this.#locals[a] = this.#locals[b]!;
    this.#locals[b] = l;
  }
}
