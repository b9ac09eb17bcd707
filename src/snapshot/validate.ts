import { isWellFormed } from '../codec/well-formed.ts';
import { ShelfError } from '../errors/index.ts';
import type {
  ChunkInput, DependencyInput, FileChunkInput, FileDependencyInput, FileInfo, FileMetadataInput, ReadOptions,
  SearchOptions, SnapshotRef,
} from './types.ts';

/** Longest name, path, FQN or hash accepted (UTF-16 code units). */
const MAX_NAME = 4096;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

function fail(message: string): never {
  throw new ShelfError('INVALID_ARGUMENT', message);
}

/** A non-empty string up to 4,096 code units (a query or pattern: never stored). @internal */
export function checkText(value: unknown, argument: string): asserts value is string {
  if (typeof value !== 'string') fail(`${argument} must be a string, got ${describe(value)}`);
  if (value.length === 0) fail(`${argument} must not be empty`);
  if (value.length > MAX_NAME) fail(`${argument} is ${value.length} characters long; the limit is ${MAX_NAME}`);
}

/**
 * {@link checkText}, without lone surrogates: names, paths and FQNs are keys stored as
 * SQLite UTF-8 text, where a lone surrogate (half of a UTF-16 pair) becomes U+FFFD, so the
 * stored key would not be the one given (a chunk saved under such an FQN came back with a
 * null id). Lookups by such a key are refused the same way: nothing can be stored under it.
 * @internal
 */
export function checkName(value: unknown, argument: string): asserts value is string {
  checkText(value, argument);
  if (!isWellFormed(value)) {
    const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
    fail(`${argument} holds a lone surrogate (half of a UTF-16 pair), which cannot be stored as text: ${JSON.stringify(shown)}`);
  }
}

/** A string (possibly empty) or `undefined`/`null`. @internal */
export function checkOptionalString(value: unknown, argument: string): asserts value is string | null | undefined {
  if (value !== undefined && value !== null && typeof value !== 'string') {
    fail(`${argument} must be a string, got ${describe(value)}`);
  }
}

/** A plain options object or `undefined`. @internal */
export function checkObject(value: unknown, argument: string, optional = true): asserts value is object | undefined {
  if (value === undefined && optional) return;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail(`${argument} must be an object, got ${describe(value)}`);
  }
}

/** An array. @internal */
export function checkArray(value: unknown, argument: string): asserts value is readonly unknown[] {
  if (!Array.isArray(value)) fail(`${argument} must be an array, got ${describe(value)}`);
}

/** An integer in `[min, max]`. @internal */
export function checkInteger(value: unknown, argument: string, min = 0, max = Number.MAX_SAFE_INTEGER): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    fail(`${argument} must be an integer ${range}, got ${typeof value === 'number' ? value : describe(value)}`);
  }
}

/** @internal */
export function checkReadOptions(options: unknown, argument = 'options'): asserts options is ReadOptions | undefined {
  checkObject(options, argument);
  const includeDeleted = (options as ReadOptions | undefined)?.includeDeleted;
  if (includeDeleted !== undefined && typeof includeDeleted !== 'boolean') {
    fail(`${argument}.includeDeleted must be a boolean, got ${describe(includeDeleted)}`);
  }
}

/** @internal */
export function checkChunk(value: unknown, argument: string, filePath?: string): asserts value is ChunkInput {
  checkObject(value, argument, false);
  const chunk = value as Partial<ChunkInput>;
  if (filePath === undefined) checkName(chunk.filePath, `${argument}.filePath`);
  else if (chunk.filePath !== undefined && chunk.filePath !== filePath) {
    fail(`${argument}.filePath must be "${filePath}" (the file being written), got ${JSON.stringify(chunk.filePath)}`);
  }
  checkName(chunk.fqn, `${argument}.fqn`);
  checkName(chunk.kind, `${argument}.kind`);
  if (typeof chunk.language !== 'string') fail(`${argument}.language must be a string, got ${describe(chunk.language)}`);
  checkInteger(chunk.startLine, `${argument}.startLine`);
  checkInteger(chunk.endLine, `${argument}.endLine`);
  if (chunk.endLine < chunk.startLine) {
    fail(`${argument}.endLine (${chunk.endLine}) must not be before ${argument}.startLine (${chunk.startLine})`);
  }
  if (typeof chunk.content !== 'string') fail(`${argument}.content must be a string, got ${describe(chunk.content)}`);
}

/** @internal */
export function checkChunks(value: unknown, argument: string): asserts value is ChunkInput[] {
  checkArray(value, argument);
  value.forEach((chunk, i) => checkChunk(chunk, `${argument}[${i}]`));
}

/**
 * The chunks of one file: each valid, no FQN twice. Returns them with `filePath` filled in.
 * @internal
 */
export function checkFileChunks(value: unknown, argument: string, path: string): ChunkInput[] {
  checkArray(value, argument);
  const seen = new Map<string, number>();
  return value.map((chunk, i) => {
    checkChunk(chunk, `${argument}[${i}]`, path);
    const c = chunk as FileChunkInput;
    const first = seen.get(c.fqn);
    if (first !== undefined) fail(`${argument}[${i}].fqn "${c.fqn}" repeats ${argument}[${first}].fqn`);
    seen.set(c.fqn, i);
    return { ...c, filePath: path };
  });
}

/** Edges of one file: each `fromFqn` must be one of `fqns`. @internal */
export function checkFileDependencies(
  value: unknown, argument: string, fqns: ReadonlySet<string>,
): asserts value is FileDependencyInput[] {
  checkArray(value, argument);
  value.forEach((dep, i) => {
    checkObject(dep, `${argument}[${i}]`, false);
    const d = dep as Partial<FileDependencyInput>;
    checkName(d.fromFqn, `${argument}[${i}].fromFqn`);
    checkName(d.toFqn, `${argument}[${i}].toFqn`);
    checkName(d.kind, `${argument}[${i}].kind`);
    if (!fqns.has(d.fromFqn)) fail(`${argument}[${i}].fromFqn "${d.fromFqn}" is not a chunk of this file`);
  });
}

/** @internal */
export function checkDependencies(value: unknown, argument: string): asserts value is DependencyInput[] {
  checkArray(value, argument);
  value.forEach((dep, i) => {
    checkObject(dep, `${argument}[${i}]`, false);
    const d = dep as Partial<DependencyInput>;
    checkInteger(d.fromChunkId, `${argument}[${i}].fromChunkId`, 1);
    checkName(d.toFqn, `${argument}[${i}].toFqn`);
    checkName(d.kind, `${argument}[${i}].kind`);
  });
}

/** @internal */
export function checkFileMetadata(value: unknown, argument: string): asserts value is FileMetadataInput {
  checkObject(value, argument, false);
  const m = value as Partial<FileMetadataInput>;
  checkName(m.path, `${argument}.path`);
  checkName(m.contentHash, `${argument}.contentHash`);
  checkInteger(m.size, `${argument}.size`);
  if (typeof m.language !== 'string') fail(`${argument}.language must be a string, got ${describe(m.language)}`);
  checkInteger(m.chunkCount, `${argument}.chunkCount`);
}

/** @internal */
export function checkFileInfo(value: unknown, argument: string): asserts value is FileInfo | undefined {
  checkObject(value, argument);
  if (value === undefined) return;
  const f = value as FileInfo;
  if (f.contentHash !== undefined) checkName(f.contentHash, `${argument}.contentHash`);
  if (f.size !== undefined) checkInteger(f.size, `${argument}.size`);
  checkOptionalString(f.language, `${argument}.language`);
}

/** @internal */
export function checkSnapshotRef(value: unknown, argument: string): asserts value is SnapshotRef {
  checkObject(value, argument, false);
  const ref = value as Partial<SnapshotRef>;
  checkName(ref.repo, `${argument}.repo`);
  checkName(ref.commit, `${argument}.commit`);
}

/** @internal */
export function checkSearchOptions(value: unknown): asserts value is SearchOptions | undefined {
  checkObject(value, 'options');
  if (value === undefined) return;
  const o = value as SearchOptions;
  if (o.limit !== undefined) checkInteger(o.limit, 'options.limit', 1, 1000);
  if (o.snapshot !== undefined) checkSnapshotRef(o.snapshot, 'options.snapshot');
  if (o.pathGlob !== undefined) checkText(o.pathGlob, 'options.pathGlob');
  if (o.snippetTokens !== undefined) checkInteger(o.snippetTokens, 'options.snippetTokens', 1, 64);
  if (o.highlight !== undefined) {
    const h = o.highlight as unknown;
    if (!Array.isArray(h) || h.length !== 2 || typeof h[0] !== 'string' || typeof h[1] !== 'string') {
      fail('options.highlight must be a pair of strings');
    }
  }
}
