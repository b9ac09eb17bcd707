import { expect, test } from '@playwright/test';

test('reloading the page in the middle of snapshot writes loses no acknowledged commit', async ({ page }) => {
  await page.goto('/test/e2e/fixtures/snapshot-writes.html');
  let previous = 0;
  for (let i = 0; i < 5; i++) {
    const report = (await (await page.waitForFunction(() => (window as unknown as { __report?: unknown }).__report)).jsonValue()) as { head: number; acked: number; consistent: boolean };
    expect(report.consistent).toBe(true);
    expect(report.head).toBeGreaterThanOrEqual(report.acked);
    expect(report.head).toBeGreaterThanOrEqual(previous);
    previous = report.head;
    await page.waitForTimeout(150 + i * 50);
    await page.reload();
  }
  expect(previous).toBeGreaterThan(0);
});
