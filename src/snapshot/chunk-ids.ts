/**
 * Public ids of chunks and edges. Snapshots share file versions (schema version 5), so one
 * stored chunk row can belong to many snapshots; the id an API caller sees names the chunk
 * *in a snapshot*: `snapshotId × 2^32 + key`, where the key is the row's own id, or, for a
 * row copied when a shared version was first written through another snapshot, the id of
 * the row it was copied from (`key_id`). A chunk therefore keeps its id in its snapshot
 * across copy-on-write, and the same chunk seen through two snapshots has two ids, as it
 * did when every snapshot had rows of its own. Ids stay below 2^53 for snapshot ids below
 * 2^21 and row ids below 2^32. Edges are numbered the same way.
 * @internal
 */

/** 2^32: the multiplier of the snapshot id in a public id. */
export const KEY_SPAN = 4294967296;

/** The largest snapshot id whose public ids stay exact JavaScript numbers (2^21 − 1). */
export const MAX_SNAPSHOT_ID = Math.floor(Number.MAX_SAFE_INTEGER / KEY_SPAN);

/** The public id of the row keyed `key` seen through snapshot `snapshotId`. */
export function publicId(snapshotId: number, key: number): number {
  return snapshotId * KEY_SPAN + key;
}

/** The snapshot and key a public id names (snapshot 0 for ids no chunk can have). */
export function splitId(id: number): { snapshotId: number; key: number } {
  const snapshotId = Math.floor(id / KEY_SPAN);
  return { snapshotId, key: id - snapshotId * KEY_SPAN };
}

/** SQL: the key of row `alias` (of `chunks` or `dependencies`). */
export function keySql(alias: string): string {
  return `coalesce(${alias}.key_id, ${alias}.id)`;
}

/** SQL: the public id of row `alias` seen through the snapshot id `snapshot` (an SQL expression). */
export function publicIdSql(snapshot: string, alias: string): string {
  return `((${snapshot} << 32) | ${keySql(alias)})`;
}
