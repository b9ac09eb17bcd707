import { SegmentBuilder } from '../../../src/search/segment-builder.ts';
import { mergeSegments } from '../../../src/search/segment-merge.ts';
import type { Segment } from '../../../src/search/segment.ts';
import { rng } from './corpus.ts';

/**
 * Deterministic code-like documents for the segment byte fixtures in `fixtures/`: seeded,
 * so the same segments are built on every run and machine. The vocabulary mixes camelCase,
 * snake_case, acronyms, digits, Latin-1 and other non-ASCII letters, emoji (surrogate pairs,
 * which only reach the trigram index) and over-long identifiers (never emitted as terms).
 */

const random = rng;

const PARTS = [
  'get', 'set', 'parse', 'node', 'tree', 'map', 'html', 'xml', 'http', 'request', 'id', 'by', 'element', 'value',
  'index', 'segment', 'term', 'table', 'find', 'prefix', 'range', 'count', 'doc', 'list', 'buffer', 'read', 'write',
  'async', 'await', 'token', 'scan', 'merge', 'sort', 'key', 'trigram', 'utf8', 'decode', 'encode', 'x', 'y', '2',
  'über', 'naïve', 'façade', 'ærø', 'λόγος', 'привет', 'mañana', '漢字', 'データ', 'straße', 'ĳssel',
];
const NOISE = ['🚀', '😀', '𝒳', 'ﬀ', '—', '€', '±'];

function identifier(next: () => number): string {
  const n = 1 + Math.floor(next() * 3);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(PARTS[Math.floor(next() * PARTS.length)]!);
  switch (Math.floor(next() * 5)) {
    case 0:
      return parts.join('_');
    case 1:
      return parts.map((p) => p.toUpperCase()).join('_');
    case 2:
      return parts.join('-');
    default:
      return parts.map((p, i) => (i === 0 ? p : p[0]!.toUpperCase() + p.slice(1))).join('');
  }
}

function line(next: () => number): string {
  const id = () => identifier(next);
  switch (Math.floor(next() * 6)) {
    case 0:
      return `const ${id()} = ${id()}(${id()}, ${Math.floor(next() * 5000)});`;
    case 1:
      return `// ${id()} ${NOISE[Math.floor(next() * NOISE.length)]} ${id()} ${id()}`;
    case 2:
      return `if (${id()}.${id()} >= ${id()}) return "${id()}${NOISE[Math.floor(next() * NOISE.length)]}";`;
    case 3:
      return `export function ${id()}(${id()}: ${id()}): ${id()} {`;
    case 4:
      return `  ${id()}${'Z'.repeat(60)} = ${id()}[${Math.floor(next() * 64)}];`;
    default:
      return `}`;
  }
}

/** Adds `count` documents, numbered from `firstDoc`, to a new builder. */
export function fixtureBuilder(seed: number, firstDoc: number, count: number): SegmentBuilder {
  const next = random(seed);
  const builder = new SegmentBuilder();
  for (let d = 0; d < count; d++) {
    const lines: string[] = [];
    const n = 2 + Math.floor(next() * 14);
    for (let i = 0; i < n; i++) lines.push(line(next));
    builder.add({ docNum: firstDoc + d, id: `doc${firstDoc + d}.ts`, text: lines.join('\n'), fields: ['language', 'ts'], hash: d });
  }
  return builder;
}

/** The segment of `segment-built.bin`. */
export function builtFixture(): Segment {
  return fixtureBuilder(1, 0, 100).build(3);
}

/** The segment of `segment-merged.bin`: three segments, some documents deleted, merged. */
export function mergedFixture(): Segment {
  const inputs = [0, 1, 2].map((k) => {
    const segment = fixtureBuilder(10 + k, k * 100, 40).build(k);
    const deleted = new Uint8Array(segment.head.docCount);
    for (let d = k; d < deleted.length; d += 4) deleted[d] = 1;
    return { ...segment, deleted };
  });
  return mergeSegments(inputs, 9);
}
