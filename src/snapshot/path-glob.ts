import { ShelfError } from '../errors/index.ts';

const SPECIAL = /[\\^$.+()|]/;

/**
 * Compiles a path glob to an anchored RegExp. `*` and `?` stay within one path segment,
 * `**` crosses `/` and `**\/` also matches no directory at all, `[abc]`/`[!abc]` are classes
 * and `{a,b}` alternatives (nestable). A malformed pattern is `INVALID_ARGUMENT`.
 */
export function compileGlob(pattern: string, argument = 'pathGlob'): RegExp {
  let out = '';
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        const slash = pattern[i + 2] === '/';
        // [^] rather than `.`: paths may hold line breaks, which `.` does not match.
        out += slash ? '(?:[^]*/)?' : '[^]*';
        i += slash ? 2 : 1;
      } else out += '[^/]*';
    } else if (ch === '?') out += '[^/]';
    else if (ch === '[') {
      // A `]` right after `[` (or `[!`) is a member, as in shell globs: the class closes at the next one.
      const negated = pattern[i + 1] === '!';
      const from = i + (negated ? 2 : 1);
      const close = pattern.indexOf(']', from + 1);
      if (close < 0) throw new ShelfError('INVALID_ARGUMENT', `${argument} has an unclosed "[" at ${i}`);
      const body = pattern.slice(from, close).replace(/[\\\]\[^]/g, (c) => `\\${c}`);
      out += (negated ? '[^' : '[') + body + ']';
      i = close;
    } else if (ch === '{') {
      depth++;
      out += '(?:';
    } else if (ch === '}' && depth > 0) {
      depth--;
      out += ')';
    } else if (ch === ',' && depth > 0) out += '|';
    else if (SPECIAL.test(ch) || ch === '{' || ch === '}' || ch === ']') out += '\\' + ch;
    else out += ch;
  }
  if (depth > 0) throw new ShelfError('INVALID_ARGUMENT', `${argument} has an unclosed "{"`);
  try {
    return new RegExp('^' + out + '$', 'u');
  } catch (error) {
    throw new ShelfError('INVALID_ARGUMENT', `${argument} is not a valid glob: ${pattern}`, { cause: error });
  }
}

/**
 * A memoizing matcher for use as a SQL function: `codeshelf_glob(pattern, path)` → 1 or 0.
 * @internal
 */
export function createGlobMatcher(): (pattern: unknown, path: unknown) => number {
  const cache = new Map<string, RegExp>();
  return (pattern, path) => {
    if (typeof pattern !== 'string' || typeof path !== 'string') return 0;
    let re = cache.get(pattern);
    if (!re) {
      re = compileGlob(pattern);
      if (cache.size > 64) cache.clear();
      cache.set(pattern, re);
    }
    return re.test(path) ? 1 : 0;
  };
}
