import { ShelfError } from '../errors/index.ts';
import type { SearchDocument, SearchFilters } from './types.ts';

/**
 * How document metadata maps to internal field names: `path`, `language`, `kind`, `tag`
 * (one entry per tag) and `field:NAME` for custom fields, so custom names never clash with
 * the built-in ones.
 * @internal
 */
export const CUSTOM_FIELD_PREFIX = 'field:';

/** Longest document id accepted. */
export const MAX_ID_LENGTH = 4096;

/** The metadata of `doc` as flat `[name, value, name, value, ...]` pairs. @internal */
export function documentFieldPairs(doc: SearchDocument): string[] {
  const out: string[] = [];
  if (doc.path !== undefined) out.push('path', doc.path);
  if (doc.language !== undefined) out.push('language', doc.language);
  if (doc.kind !== undefined) out.push('kind', doc.kind);
  if (doc.tags !== undefined) for (const tag of doc.tags) out.push('tag', tag);
  if (doc.fields !== undefined) {
    for (const name of Object.keys(doc.fields).sort()) out.push(CUSTOM_FIELD_PREFIX + name, doc.fields[name]!);
  }
  return out;
}

/** Rebuilds the metadata part of a document from field pairs. @internal */
export function pairsToMetadata(pairs: readonly string[]): Omit<SearchDocument, 'id' | 'text'> {
  const out: { path?: string; language?: string; kind?: string; tags?: string[]; fields?: Record<string, string> } = {};
  for (let i = 0; i < pairs.length; i += 2) {
    const name = pairs[i]!;
    const value = pairs[i + 1]!;
    if (name === 'path') out.path = value;
    else if (name === 'language') out.language = value;
    else if (name === 'kind') out.kind = value;
    else if (name === 'tag') (out.tags ??= []).push(value);
    else if (name.startsWith(CUSTOM_FIELD_PREFIX)) (out.fields ??= {})[name.slice(CUSTOM_FIELD_PREFIX.length)] = value;
  }
  return out;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'Array';
  return typeof value === 'object' ? (value as object).constructor?.name ?? 'Object' : typeof value;
}

function checkString(value: unknown, where: string): void {
  if (typeof value !== 'string') throw new ShelfError('INVALID_ARGUMENT', `${where} must be a string, got ${typeName(value)}`);
}

/** Refuses anything that is not a well-formed {@link SearchDocument}, naming the bad part. @internal */
export function validateDocument(doc: unknown, where: string): asserts doc is SearchDocument {
  if (doc === null || typeof doc !== 'object') throw new ShelfError('INVALID_ARGUMENT', `${where} must be an object, got ${typeName(doc)}`);
  const d = doc as Record<string, unknown>;
  checkString(d.id, `${where}.id`);
  const id = d.id as string;
  if (id.length === 0 || id.length > MAX_ID_LENGTH) {
    throw new ShelfError('INVALID_ARGUMENT', `${where}.id must be 1 to ${MAX_ID_LENGTH} characters, got ${id.length}`);
  }
  checkString(d.text, `${where}.text`);
  for (const key of ['path', 'language', 'kind'] as const) if (d[key] !== undefined) checkString(d[key], `${where}.${key}`);
  if (d.tags !== undefined) {
    if (!Array.isArray(d.tags)) throw new ShelfError('INVALID_ARGUMENT', `${where}.tags must be an array of strings, got ${typeName(d.tags)}`);
    d.tags.forEach((tag, i) => checkString(tag, `${where}.tags[${i}]`));
  }
  if (d.fields !== undefined) {
    if (d.fields === null || typeof d.fields !== 'object' || Array.isArray(d.fields)) {
      throw new ShelfError('INVALID_ARGUMENT', `${where}.fields must be an object of strings, got ${typeName(d.fields)}`);
    }
    for (const [name, value] of Object.entries(d.fields)) checkString(value, `${where}.fields.${name}`);
  }
}

/** A filter as `[field, alternatives]` pairs, validated, in a stable order. @internal */
export function normalizeFilters(filters: SearchFilters | undefined): [string, string[]][] {
  if (filters === undefined) return [];
  if (filters === null || typeof filters !== 'object') {
    throw new ShelfError('INVALID_ARGUMENT', `options.filters must be an object, got ${typeName(filters)}`);
  }
  const out: [string, string[]][] = [];
  const add = (name: string, value: unknown, where: string) => {
    if (value === undefined) return;
    const list = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list) || list.some((v) => typeof v !== 'string')) {
      throw new ShelfError('INVALID_ARGUMENT', `${where} must be a string or an array of strings, got ${typeName(value)}`);
    }
    out.push([name, [...new Set(list as string[])].sort()]);
  };
  add('path', filters.path, 'options.filters.path');
  add('language', filters.language, 'options.filters.language');
  add('kind', filters.kind, 'options.filters.kind');
  add('tag', filters.tag, 'options.filters.tag');
  if (filters.fields !== undefined) {
    if (filters.fields === null || typeof filters.fields !== 'object') {
      throw new ShelfError('INVALID_ARGUMENT', `options.filters.fields must be an object, got ${typeName(filters.fields)}`);
    }
    for (const name of Object.keys(filters.fields).sort()) {
      add(CUSTOM_FIELD_PREFIX + name, filters.fields[name], `options.filters.fields.${name}`);
    }
  }
  return out;
}
