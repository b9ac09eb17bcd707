type MaybeWellFormed = string & { isWellFormed?: () => boolean };
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Whether `text` is well-formed UTF-16: no lone surrogate (half of a pair, as text cut
 * inside an emoji has), so it survives UTF-8 (which turns one into U+FFFD) and
 * `encodeURIComponent` (which throws on one). `String.prototype.isWellFormed` where the
 * runtime has it, else a regular expression.
 * @internal
 */
export function isWellFormed(text: string): boolean {
  const native = (text as MaybeWellFormed).isWellFormed;
  return native ? native.call(text) : !LONE_SURROGATE.test(text);
}
