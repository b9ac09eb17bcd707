import { expect, test } from '@playwright/test';

test('the built package starts its workers from dist/ and keeps ShelfError intact', async ({ page }) => {
  await page.goto('/test/e2e/fixtures/package.html');
  const result = await page.waitForFunction(() => (window as unknown as { __packageResult?: unknown }).__packageResult);
  expect(await result.jsonValue()).toEqual({ value: { from: 'dist' }, isShelfError: true, code: 'INVALID_ARGUMENT', helpersCompressed: true });
});
