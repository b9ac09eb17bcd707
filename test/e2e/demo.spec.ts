import { expect, test } from '@playwright/test';

test('the demo imports the sample repository through the worker and shows a file', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/demo/');
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
  await expect(page.getByTestId('status')).toContainText('Imported 6 sample files');
  await expect(page.getByTestId('file-list').locator('button')).toHaveCount(6);
  await page.getByTestId('file-list').getByText('src/lru-cache.ts').click();
  await expect(page.getByTestId('viewer-title')).toHaveText('src/lru-cache.ts');
  await expect(page.getByTestId('viewer')).toContainText('export class LruCache<V>');
  // The outline comes from the document collection in the worker.
  await expect(page.getByTestId('viewer-meta')).toContainText('declares CacheOptions, LruCache');
  await expect(page.getByTestId('collection-stats')).toContainText('1 / 1');
  await expect(page.getByTestId('stats')).toContainText('keys');
  await expect(page.getByTestId('log')).toContainText('imported 6 files');
  // Keyword search highlights, regex search finds exact ranges.
  await page.getByTestId('search-input').fill('evictOldest');
  await expect(page.getByTestId('search-out').locator('mark').first()).toHaveText('evictOldest');
  await page.getByTestId('search-regex').check();
  await page.getByTestId('search-input').fill('def \\w+_log');
  await expect(page.getByTestId('search-out')).toContainText('tools/warm_cache.py');
  await expect(page.getByTestId('search-out').locator('mark').first()).toHaveText('def read_log');
  // The snapshot panel: two commits, one file changed, FQN diff and a dependency walk.
  await page.getByTestId('snapshot-run').click();
  await expect(page.getByTestId('snapshot-diff')).toContainText('modified src.lru-cache.LruCache');
  await expect(page.getByTestId('snapshot-out')).toContainText('1 file analysed, 3 copied');
  await expect(page.getByTestId('snapshot-walk')).toContainText('src.lru-cache.LruCache');
  expect(errors).toEqual([]);
});

test('data written through the worker survives a page reload', async ({ page }) => {
  await page.goto('/demo/');
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
  await page.getByTestId('note-key').fill('todo');
  await page.getByTestId('note-text').fill('index the monorepo');
  await page.getByTestId('note-save').click();
  await expect(page.getByTestId('notes')).toContainText('todo: index the monorepo');

  await page.getByTestId('search-input').fill('evict');
  await expect(page.getByTestId('search-out')).toContainText('src/lru-cache.ts');
  const before = await page.getByTestId('search-out').locator('.hits').innerHTML();

  await page.reload();
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
  await expect(page.getByTestId('status')).toContainText('Opened 6 files persisted');
  // The search index reopened from IndexedDB answers the same.
  await page.getByTestId('search-input').fill('evict');
  await expect(page.getByTestId('search-out').locator('mark').first()).toBeVisible();
  expect(await page.getByTestId('search-out').locator('.hits').innerHTML()).toBe(before);
  await expect(page.getByTestId('notes')).toContainText('todo: index the monorepo');
  await expect(page.getByTestId('log')).toContainText('saved note "todo"');
  // The storage worker, not the page, holds the IndexedDB connection: the page reads the
  // database only to prove where the data lives.
  const stored = await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open('codeshelf:codeshelf-demo:kv');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const count = await new Promise<number>((resolve) => {
      const req = db.transaction('kv').objectStore('kv').count();
      req.onsuccess = () => resolve(req.result);
    });
    db.close();
    return count;
  });
  expect(stored).toBeGreaterThanOrEqual(7);
});
