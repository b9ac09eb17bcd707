// The search panel: keyword (BM25, code-aware tokens) or regular-expression search over the
// sample repository, in the search worker, with the matched ranges highlighted.
import type { Shelf, TextRange } from '../src/index.ts';

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** One line with its ranges wrapped in <mark>. */
function highlightLine(line: string, ranges: TextRange[]): string {
  let out = '';
  let at = 0;
  for (const r of [...ranges].sort((a, b) => a.column - b.column)) {
    if (r.column < at) continue;
    out += escapeHtml(line.slice(at, r.column)) + `<mark>${escapeHtml(line.slice(r.column, r.column + r.length))}</mark>`;
    at = r.column + r.length;
  }
  return out + escapeHtml(line.slice(at));
}

export async function runSearch(shelf: Shelf, text: string, regex: boolean, out: HTMLElement): Promise<void> {
  if (!text.trim()) {
    out.replaceChildren();
    return;
  }
  const t0 = performance.now();
  const results = regex
    ? (await shelf.search.regex(text, { limit: 20 })).matches.map((m) => ({ id: m.id, ranges: m.ranges }))
    : (await shelf.search.query(text, { limit: 20 })).hits.map((h) => ({ id: h.id, ranges: h.ranges }));
  const ms = performance.now() - t0;
  const items = await Promise.all(
    results.map(async ({ id, ranges }) => {
      const doc = await shelf.search.get(id);
      const lines = (doc?.text ?? '').split('\n');
      const byLine = new Map<number, TextRange[]>();
      for (const r of ranges) byLine.set(r.line, [...(byLine.get(r.line) ?? []), r]);
      const shown = [...byLine].slice(0, 3).map(([line, rs]) => `<div class="hit-line"><span class="ln">${line + 1}</span>${highlightLine(lines[line] ?? '', rs)}</div>`);
      return `<li><div class="hit-path">${escapeHtml(id)}</div>${shown.join('')}</li>`;
    }),
  );
  out.innerHTML = `<p class="meta">${results.length} file${results.length === 1 ? '' : 's'} · ${ms.toFixed(1)} ms from the page</p><ul class="hits">${items.join('')}</ul>`;
}
