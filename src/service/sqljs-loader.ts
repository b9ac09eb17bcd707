// Loaded lazily (dynamic import) by the storage worker the first time snapshots are used,
// so the sql.js WASM is fetched only by apps that need it.
import type { InitSqlJsStatic, SqlJsConfig, SqlJsStatic } from 'sql.js';
import wasmUrl from 'sql.js/dist/sql-wasm-browser.wasm?url';

export async function loadBrowserSqlJs(): Promise<SqlJsStatic> {
  const mod = (await import('sql.js')) as unknown as InitSqlJsStatic & { default?: InitSqlJsStatic };
  const init = mod.default ?? mod;
  return init({ locateFile: () => wasmUrl, useOldExtensionFunctions: false } as SqlJsConfig);
}
