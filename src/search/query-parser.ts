import { ShelfError } from '../errors/index.ts';
import { tokenize, unindexedTokens, type Token } from './tokenizer.ts';

/**
 * The keyword query language.
 *
 * | syntax | meaning |
 * | --- | --- |
 * | `parse tree` | both terms (AND is implicit; `AND` may be written) |
 * | `parser OR lexer` | either; **OR binds tighter than AND**: `a b OR c` is `a AND (b OR c)` |
 * | `-test`, `NOT test` | without the term (a query of only negations matches everything else) |
 * | `"new Map"` | phrase: the tokens at consecutive positions |
 * | `getEl*` | any term starting with `getel` |
 * | `( … )` | grouping |
 *
 * A bare word that is one identifier is matched as that whole (lowercased) token, so
 * `HTMLParser` finds `htmlParser` but not `html_parser`; a word made of several identifiers
 * (`foo.bar`, `a::b`) is a phrase of their parts. Words with nothing searchable in them
 * (`++`) are ignored. An empty query matches every document (useful with filters).
 */
export type QueryNode =
  | { readonly kind: 'term'; readonly term: string }
  | { readonly kind: 'prefix'; readonly prefix: string }
  | { readonly kind: 'phrase'; readonly terms: readonly string[]; readonly offsets: readonly number[] }
  | { readonly kind: 'and'; readonly children: readonly QueryNode[] }
  | { readonly kind: 'or'; readonly children: readonly QueryNode[] }
  | { readonly kind: 'not'; readonly child: QueryNode }
  | { readonly kind: 'all' }
  | { readonly kind: 'none' };

/** Longest query text accepted. */
export const MAX_QUERY_LENGTH = 4096;

type Lexeme =
  | { readonly type: '(' | ')' | 'OR' | 'AND' | 'NOT' | '-' }
  | { readonly type: 'word' | 'phrase'; readonly text: string };

const ALL: QueryNode = { kind: 'all' };
const NONE: QueryNode = { kind: 'none' };

function lex(text: string): Lexeme[] {
  const out: Lexeme[] = [];
  let i = 0;
  const n = text.length;
  const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
  while (i < n) {
    const ch = text[i]!;
    if (isSpace(ch)) {
      i++;
    } else if (ch === '(' || ch === ')') {
      out.push({ type: ch });
      i++;
    } else if (ch === '"') {
      const end = text.indexOf('"', i + 1);
      const stop = end === -1 ? n : end;
      out.push({ type: 'phrase', text: text.slice(i + 1, stop) });
      i = stop + 1;
    } else if (ch === '-' && i + 1 < n && !isSpace(text[i + 1]!) && text[i + 1] !== '-') {
      out.push({ type: '-' });
      i++;
    } else {
      let j = i;
      while (j < n && !isSpace(text[j]!) && text[j] !== '(' && text[j] !== ')' && text[j] !== '"') j++;
      const word = text.slice(i, j);
      if (word === 'OR' || word === 'AND' || word === 'NOT') out.push({ type: word });
      else out.push({ type: 'word', text: word });
      i = j;
    }
  }
  return out;
}

/** Tokens that take phrase positions (parts, simple and bare identifiers). */
function positional(tokens: readonly Token[]): Token[] {
  return tokens.filter((t) => t.kind !== 'word');
}

function phraseOf(tokens: readonly Token[]): QueryNode | null {
  const pos = positional(tokens);
  if (pos.length === 0) return null;
  if (pos.length === 1) return { kind: 'term', term: pos[0]!.term };
  const first = pos[0]!.position;
  return { kind: 'phrase', terms: pos.map((t) => t.term), offsets: pos.map((t) => t.position - first) };
}

/** Identifiers of a word: each with its whole token, or `null` when that was too long to index. */
function identifiers(tokens: readonly Token[]): { whole: string | null; offset: number; end: number }[] {
  const out: { whole: string | null; offset: number; end: number }[] = [];
  for (const t of tokens) {
    const last = out[out.length - 1];
    if (t.kind === 'part' && last !== undefined && t.offset < last.end) continue;
    out.push({ whole: t.kind === 'part' ? null : t.term, offset: t.offset, end: t.offset + t.length });
  }
  return out;
}

/**
 * Whether `text` holds a token too long to be indexed: then nothing in the index can match
 * it, and the word or phrase matches nothing (rather than being ignored, or leaving a gap
 * any token fills).
 */
const unmatchable = (text: string) => unindexedTokens(text) > 0;

function wordNode(word: string): QueryNode | null {
  if (unmatchable(word)) return NONE;
  const tokens = tokenize(word);
  if (tokens.length === 0) return null;
  const ids = identifiers(tokens);
  if (ids.length === 1 && ids[0]!.whole !== null) return { kind: 'term', term: ids[0]!.whole };
  return phraseOf(tokens);
}

function prefixNode(word: string): QueryNode | null {
  const base = word.replace(/\*+$/, '');
  if (base === '') return ALL;
  if (unmatchable(base)) return NONE;
  const tokens = tokenize(base);
  if (tokens.length === 0) return null;
  const ids = identifiers(tokens);
  const last = ids[ids.length - 1]!;
  const prefix: QueryNode = { kind: 'prefix', prefix: base.slice(last.offset, last.end).toLowerCase() };
  const head = ids.length > 1 ? wordNode(base.slice(0, last.offset)) : null;
  return head === null ? prefix : { kind: 'and', children: [head, prefix] };
}

class Parser {
  readonly #lexemes: Lexeme[];
  #i = 0;

  constructor(lexemes: Lexeme[]) {
    this.#lexemes = lexemes;
  }

  get done(): boolean {
    return this.#i >= this.#lexemes.length;
  }

  #peek(): Lexeme | undefined {
    return this.#lexemes[this.#i];
  }

  parseAnd(nested: boolean): QueryNode | null {
    const children: QueryNode[] = [];
    for (;;) {
      const next = this.#peek();
      if (next === undefined) break;
      if (next.type === ')') {
        if (nested) break;
        this.#i++; // a stray ')' at the top level is ignored
        continue;
      }
      if (next.type === 'AND') {
        this.#i++;
        continue;
      }
      const node = this.#parseOr();
      if (node !== null) children.push(node);
    }
    if (children.length === 0) return null;
    return children.length === 1 ? children[0]! : { kind: 'and', children };
  }

  #parseOr(): QueryNode | null {
    const children: QueryNode[] = [];
    const first = this.#parseUnary();
    if (first !== null) children.push(first);
    while (this.#peek()?.type === 'OR' && this.#lexemes[this.#i + 1] !== undefined && this.#lexemes[this.#i + 1]!.type !== ')') {
      this.#i++;
      const next = this.#parseUnary();
      if (next !== null) children.push(next);
    }
    if (children.length === 0) return null;
    return children.length === 1 ? children[0]! : { kind: 'or', children };
  }

  #parseUnary(): QueryNode | null {
    const next = this.#peek();
    if (next === undefined) return null;
    if (next.type === 'NOT' || next.type === '-') {
      this.#i++;
      // Nothing to negate (the end, or the group closes): a NOT is the word "not", as at the end.
      if (this.#peek() === undefined || this.#peek()!.type === ')') return next.type === 'NOT' ? wordNode('not') : null;
      const child = this.#parseUnary();
      return child === null ? null : { kind: 'not', child };
    }
    return this.#parsePrimary();
  }

  #parsePrimary(): QueryNode | null {
    const next = this.#lexemes[this.#i++]!;
    switch (next.type) {
      case '(': {
        const inner = this.parseAnd(true);
        if (this.#peek()?.type === ')') this.#i++;
        return inner;
      }
      case 'phrase':
        return unmatchable(next.text) ? NONE : phraseOf(tokenize(next.text));
      case 'word':
        return next.text.endsWith('*') ? prefixNode(next.text) : wordNode(next.text);
      case 'OR':
      case 'AND':
      case 'NOT':
        // An operator where an operand belongs is searched for as a word.
        return wordNode(next.type);
      default:
        return null;
    }
  }
}

/** Flattens nested AND/OR and folds `all`/`none`. */
export function normalizeQuery(node: QueryNode): QueryNode {
  switch (node.kind) {
    case 'and': {
      const children: QueryNode[] = [];
      for (const c of node.children.map(normalizeQuery)) {
        if (c.kind === 'none') return NONE;
        if (c.kind === 'all') continue;
        if (c.kind === 'and') children.push(...c.children);
        else children.push(c);
      }
      if (children.length === 0) return ALL;
      return children.length === 1 ? children[0]! : { kind: 'and', children };
    }
    case 'or': {
      const children: QueryNode[] = [];
      for (const c of node.children.map(normalizeQuery)) {
        if (c.kind === 'all') return ALL;
        if (c.kind === 'none') continue;
        if (c.kind === 'or') children.push(...c.children);
        else children.push(c);
      }
      if (children.length === 0) return NONE;
      return children.length === 1 ? children[0]! : { kind: 'or', children };
    }
    case 'not': {
      const child = normalizeQuery(node.child);
      if (child.kind === 'all') return NONE;
      if (child.kind === 'none') return ALL;
      if (child.kind === 'not') return child.child;
      return { kind: 'not', child };
    }
    default:
      return node;
  }
}

/**
 * Parses a keyword query into a normalized tree. Never fails on odd input (unbalanced
 * parentheses and quotes are closed at the end); only an over-long query is refused.
 *
 * @example
 * ```ts
 * parseQuery('parse* -test "syntax tree"')
 * ```
 */
export function parseQuery(text: string): QueryNode {
  if (typeof text !== 'string') throw new ShelfError('INVALID_ARGUMENT', `query must be a string, got ${typeof text}`);
  if (text.length > MAX_QUERY_LENGTH) {
    throw new ShelfError('INVALID_ARGUMENT', `query is ${text.length} characters, longer than the ${MAX_QUERY_LENGTH} allowed`);
  }
  if (text.trim() === '') return ALL;
  const parser = new Parser(lex(text));
  const node = parser.parseAnd(false);
  return node === null ? NONE : normalizeQuery(node);
}

/** Renders a query tree compactly, for logs and tests. */
export function formatQuery(node: QueryNode): string {
  switch (node.kind) {
    case 'term':
      return node.term;
    case 'prefix':
      return `${node.prefix}*`;
    case 'phrase':
      return `"${node.terms.map((t, i) => (i > 0 && node.offsets[i]! !== node.offsets[i - 1]! + 1 ? `@${node.offsets[i]} ${t}` : t)).join(' ')}"`;
    case 'and':
      return `(${node.children.map(formatQuery).join(' AND ')})`;
    case 'or':
      return `(${node.children.map(formatQuery).join(' OR ')})`;
    case 'not':
      return `-${formatQuery(node.child)}`;
    case 'all':
      return '*';
    case 'none':
      return '∅';
  }
}
