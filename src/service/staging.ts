import { ShelfError } from '../errors/index.ts';

/**
 * Arrays the page sends in slices (see src/client/sliced-send.ts): each slice is a message
 * of its own, so no single structured clone of a large write blocks the page, and the call
 * that writes them takes them whole, as one atomic write. Slices wait here under a token
 * the page chose until that call takes them or the page drops them (a slice or the final
 * call it could not send); closing the shelf drops them with the worker.
 * @internal
 */
export class Staging {
  readonly #parts = new Map<number, unknown[][]>();

  add(token: number, items: unknown[]): void {
    if (!Number.isSafeInteger(token)) throw new ShelfError('INVALID_ARGUMENT', `staging token must be an integer, got ${String(token)}`);
    if (!Array.isArray(items)) throw new ShelfError('INVALID_ARGUMENT', 'staged items must be an array');
    const parts = this.#parts.get(token);
    if (parts) parts.push(items);
    else this.#parts.set(token, [items]);
  }

  /**
   * The items staged under `token`, in the order they came, and forgets them. A hole of a
   * sparse array comes back as `undefined` in its place (the write then refuses it at its
   * index, as it would the array sent whole).
   */
  take(token: number): unknown[] {
    const parts = this.#parts.get(token);
    if (!parts) throw new ShelfError('INVALID_ARGUMENT', `nothing is staged under token ${String(token)}`);
    this.#parts.delete(token);
    let total = 0;
    for (const part of parts) total += part.length;
    const items = new Array<unknown>(total);
    let at = 0;
    for (const part of parts) for (let i = 0; i < part.length; i++) items[at++] = part[i];
    return items;
  }

  drop(token: number): void {
    this.#parts.delete(token);
  }

  /** How many writes have slices waiting (for tests). */
  get size(): number {
    return this.#parts.size;
  }
}
