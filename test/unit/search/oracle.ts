import type { QueryNode } from '../../../src/search/index.ts';

/**
 * A brute-force oracle, written independently of src/search: tokens come from regular
 * expressions that restate the tokenizer's documented rules, queries are evaluated by
 * scanning every document.
 */
const NA = '\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u1FFF\\u2C00-\\u2FFF\\u3040-\\uD7FF\\uE000-\\uFDFF\\uFE10-\\uFEFE\\uFF00-\\uFFEF';
const W = `[A-Za-z0-9_$${NA}]`;
const IDENT = new RegExp(`${W}+(?:(?<=[A-Za-z0-9${NA}])-(?=[A-Za-z${NA}])${W}+)*`, 'g');
const PART = new RegExp(`[A-Z]+(?![a-z${NA}])|[A-Z][a-z${NA}]+|[a-z${NA}]+|[0-9]+`, 'g');
const MAX = 64;

/** Every token of a document with its phrase positions. */
export interface OracleDoc {
  readonly id: string;
  readonly text: string;
  readonly positions: Map<string, number[]>;
  /** Positional tokens in order (parts and part-less identifiers), for building phrases. */
  readonly sequence: { term: string; position: number }[];
  readonly wholes: string[];
}

export function oracleDoc(id: string, text: string): OracleDoc {
  const positions = new Map<string, number[]>();
  const sequence: { term: string; position: number }[] = [];
  const wholes: string[] = [];
  const add = (term: string, position: number) => {
    const list = positions.get(term);
    if (list === undefined) positions.set(term, [position]);
    else if (list[list.length - 1] !== position) list.push(position);
  };
  let pos = 0;
  for (const m of text.matchAll(IDENT)) {
    const ident = m[0];
    const parts: string[] = [];
    for (const chunk of ident.split(/[_$-]+/)) for (const p of chunk.matchAll(PART)) parts.push(p[0]);
    const single = parts.length === 1 && parts[0] === ident;
    if (!single) {
      if (ident.length <= MAX) {
        add(ident.toLowerCase(), pos);
        wholes.push(ident.toLowerCase());
      }
      if (parts.length === 0) {
        if (ident.length <= MAX) sequence.push({ term: ident.toLowerCase(), position: pos });
        pos++;
      }
    }
    for (const part of parts) {
      if (part.length <= MAX) {
        add(part.toLowerCase(), pos);
        sequence.push({ term: part.toLowerCase(), position: pos });
        if (single) wholes.push(part.toLowerCase());
      }
      pos++;
    }
  }
  return { id, text, positions, sequence, wholes };
}

/** Whether `doc` matches the (parsed) query. */
export function oracleMatches(node: QueryNode, doc: OracleDoc): boolean {
  switch (node.kind) {
    case 'all':
      return true;
    case 'none':
      return false;
    case 'term':
      return doc.positions.has(node.term);
    case 'prefix':
      for (const term of doc.positions.keys()) if (term.startsWith(node.prefix)) return true;
      return false;
    case 'phrase': {
      const first = doc.positions.get(node.terms[0]!);
      if (first === undefined) return false;
      const rest = node.terms.map((t) => new Set(doc.positions.get(t) ?? []));
      return first.some((p) => node.terms.every((_, i) => rest[i]!.has(p + node.offsets[i]!)));
    }
    case 'and':
      return node.children.every((c) => oracleMatches(c, doc));
    case 'or':
      return node.children.some((c) => oracleMatches(c, doc));
    case 'not':
      return !oracleMatches(node.child, doc);
  }
}

/** All matches of a regex in a text, as [offset, length] pairs (at most `max`). */
export function oracleRanges(pattern: string, flags: string, text: string, max = 100): [number, number][] {
  const out: [number, number][] = [];
  for (const m of text.matchAll(new RegExp(pattern, `${flags}g`))) {
    out.push([m.index, m[0].length]);
    if (out.length >= max) break;
  }
  return out;
}

/** The terms and prefixes a query highlights: its positive term and prefix leaves. */
export function highlightedLeaves(node: QueryNode): { words: Set<string>; prefixes: string[] } {
  const words = new Set<string>();
  const prefixes: string[] = [];
  const walk = (n: QueryNode) => {
    if (n.kind === 'term') words.add(n.term);
    else if (n.kind === 'prefix') prefixes.push(n.prefix);
    else if (n.kind === 'and' || n.kind === 'or') n.children.forEach(walk);
  };
  walk(node);
  return { words, prefixes };
}
