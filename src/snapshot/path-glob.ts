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
        out += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else out += '[^/]*';
    } else if (ch === '?') out += '[^/]';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw new ShelfError('INVALID_ARGUMENT', `${argument} has an unclosed "[" at ${i}`);
      let body = pattern.slice(i + 1, end);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      out += '[' + body.replace(/\\/g, '\\\\') + ']';
      i = end;
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
