/**
 * Collection file names: `{encodeURIComponent(name)}.{generation}.csc`.
 * @internal
 */
const EXT = '.csc';

export function collectionFileName(name: string, generation: number): string {
  return `${encodeURIComponent(name)}.${generation}${EXT}`;
}

export function parseCollectionFileName(file: string): { name: string; generation: number } | null {
  if (!file.endsWith(EXT)) return null;
  const stem = file.slice(0, -EXT.length);
  const dot = stem.lastIndexOf('.');
  if (dot <= 0) return null;
  const generation = Number(stem.slice(dot + 1));
  if (!Number.isInteger(generation) || generation < 1) return null;
  try {
    return { name: decodeURIComponent(stem.slice(0, dot)), generation };
  } catch {
    return null;
  }
}

let last = 0;
let seq = 0;
/** A unique, roughly time-ordered document id. */
export function newDocId(): string {
  const now = Date.now();
  seq = now === last ? seq + 1 : 0;
  last = now;
  return `${now.toString(36)}${seq.toString(36).padStart(3, '0')}${Math.floor(Math.random() * 36 ** 5).toString(36).padStart(5, '0')}`;
}
