import { ShelfError } from '../errors/index.ts';

function escape(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? `\\${ch}` : ch;
}

function translate(glob: string, where: string): string {
  let out = '';
  let i = 0;
  let braces = 0;
  while (i < glob.length) {
    const ch = glob[i]!;
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        const slashAfter = glob[i + 2] === '/';
        const atStart = i === 0 || glob[i - 1] === '/';
        if (atStart && slashAfter) {
          out += '(?:.*/)?';
          i += 3;
        } else {
          out += '.*';
          i += 2;
        }
      } else {
        out += '[^/]*';
        i++;
      }
    } else if (ch === '?') {
      out += '[^/]';
      i++;
    } else if (ch === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close === -1) throw new ShelfError('INVALID_ARGUMENT', `${where}: unclosed "[" in glob ${JSON.stringify(glob)}`);
      let body = glob.slice(i + 1, close);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      out += `[${negated ? '^' : ''}${body.replace(/\\/g, '\\\\').replace(/\]/g, '\\]')}]`;
      i = close + 1;
    } else if (ch === '{') {
      braces++;
      out += '(?:';
      i++;
    } else if (ch === '}' && braces > 0) {
      braces--;
      out += ')';
      i++;
    } else if (ch === ',' && braces > 0) {
      out += '|';
      i++;
    } else if (ch === '\\' && i + 1 < glob.length) {
      out += escape(glob[i + 1]!);
      i += 2;
    } else {
      out += escape(ch);
      i++;
    }
  }
  if (braces > 0) throw new ShelfError('INVALID_ARGUMENT', `${where}: unclosed "{" in glob ${JSON.stringify(glob)}`);
  return out;
}

/**
 * Compiles a path glob into a predicate. `*` and `?` stay within one path segment, `**`
 * crosses segments (`src/**\/x.ts` also matches `src/x.ts`), `{a,b}` is alternation and
 * `[abc]` / `[!abc]` are classes. A glob without `/` is matched against the file name only
 * (`*.d.ts` matches `lib/es5.d.ts`).
 *
 * @example
 * ```ts
 * compileGlob('src/**\/*.ts')('src/search/index.ts') // true
 * ```
 */
export function compileGlob(glob: string, where = 'glob'): (path: string) => boolean {
  if (typeof glob !== 'string' || glob === '') throw new ShelfError('INVALID_ARGUMENT', `${where} must be a non-empty string`);
  let re: RegExp;
  try {
    re = new RegExp(`^${translate(glob, where)}$`, 's');
  } catch (error) {
    throw new ShelfError('INVALID_ARGUMENT', `${where}: bad glob ${JSON.stringify(glob)}`, { cause: error });
  }
  if (glob.includes('/')) return (path) => re.test(path);
  return (path) => re.test(path.slice(path.lastIndexOf('/') + 1));
}
