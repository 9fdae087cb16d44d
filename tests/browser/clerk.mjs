// The clerks' journey on a desktop: 张伟 files 无犯罪记录证明 online (JSON
// API); window clerk gaoj logs in with password and TOTP, finds the case
// in 待办, opens it (materials shown) and accepts it; reviewer liuy, in a
// browser context of her own, passes it with an opinion; approver zhaom
// approves it; the case is 办结 and its decision notice is a PDF.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  NO_RECORD_NAME,
  PASSWORD,
  SCREENS,
  TOTP_SECRET,
  api,
  check,
  journey,
  matterCode,
  png,
  residentLogin,
  screenshots,
  step,
  totp,
  BASE,
} from './lib.mjs';

const shot = screenshots('clerk');

/** Files the case as 张伟 through the JSON API; returns its number. */
async function fileCase() {
  const token = await residentLogin();
  const applied = await api('POST', '/api/v1/applications', {
    token,
    body: {
      matter_code: await matterCode(NO_RECORD_NAME),
      form: { purpose: '出国（境）', receiver: '某国驻华使馆' },
      materials: [
        { name: '申请人居民身份证', filename: 'id-card.png', content_base64: png().toString('base64') },
        {
          name: '犯罪记录查询申请表',
          filename: 'application-form.png',
          content_base64: png(120, 160, 30).toString('base64'),
        },
      ],
    },
  });
  check(applied?.case_number, `no case number: ${JSON.stringify(applied)}`);
  return applied.case_number;
}

/** A fresh desktop browser context logged in as `username` through the login pages. */
async function clerkLogin(browser, pages, username) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'zh-CN' });
  const page = await context.newPage();
  pages.push(page);
  await page.goto(`${BASE}/clerk`);
  await page.waitForURL(/\/clerk\/login$/);
  await page.fill('#username', username);
  await page.fill('#password', PASSWORD);
  await shot(page, `${username}-login`);
  await page.click('#login-submit');
  await page.locator('#totp-form').waitFor();
  await page.fill('#code', totp(TOTP_SECRET));
  await shot(page, `${username}-totp`);
  await page.click('#totp-submit');
  await page.waitForURL(/\/clerk\/inbox\/todo$/);
  return page;
}

/** Opens the case from the 待办 inbox. */
async function openFromTodo(page, caseNumber, who) {
  await page.click('#inbox-todo');
  const row = page.locator(`#inbox-table tr[data-case="${caseNumber}"]`);
  await row.waitFor();
  await shot(page, `${who}-todo`);
  await row.locator('a', { hasText: caseNumber }).click();
  await page.locator('#case-status').waitFor();
}

/** Takes one action through its form on the case page. */
async function actOnPage(page, action, opinion) {
  await page.fill(`#opinion-${action}`, opinion);
  await page.click(`#act-${action}`);
  await page.waitForURL(new RegExp(`\\?done=${action}$`));
  const flash = await page.locator('#flash').innerText();
  check(flash.includes('已办理'), `after ${action}: ${flash}`);
}

await journey('clerk', async (browser, pages) => {
  step('张伟 files a case (JSON API)');
  const caseNumber = await fileCase();
  step(`case ${caseNumber} filed`);

  step('gaoj logs in (password, then TOTP)');
  const gaoj = await clerkLogin(browser, pages, 'gaoj');
  await openFromTodo(gaoj, caseNumber, 'gaoj');
  check(
    (await gaoj.locator('#case-status').innerText()).includes('已提交'),
    'the new case is 已提交',
  );
  check(
    (await gaoj.locator('#case-matter').innerText()).includes(NO_RECORD_NAME),
    'the case page names the matter',
  );
  const images = gaoj.locator('.materials img');
  check((await images.count()) === 2, 'both materials are shown');
  // Images load after the page: wait for them (with a deadline) before looking.
  await gaoj
    .waitForFunction(
      () => [...document.querySelectorAll('.materials img')].every((i) => i.complete && i.naturalWidth > 0),
      null,
      { timeout: 15000 },
    )
    .catch(() => {});
  const shown = await images.evaluateAll((imgs) => imgs.map((i) => i.complete && i.naturalWidth > 0));
  check(
    shown.every(Boolean),
    `the material images load in the page (loaded: ${JSON.stringify(shown)})`,
  );
  await shot(gaoj, 'gaoj-case');

  step('gaoj accepts');
  await actOnPage(gaoj, 'accept', '材料齐全，予以受理。');
  check(!(await gaoj.locator('#act-accept').count()), 'accept is no longer offered');
  await shot(gaoj, 'gaoj-accepted');

  step('liuy logs in in her own context and passes');
  const liuy = await clerkLogin(browser, pages, 'liuy');
  await openFromTodo(liuy, caseNumber, 'liuy');
  await actOnPage(liuy, 'pass', '经查询，申请人无犯罪记录。');
  await shot(liuy, 'liuy-passed');

  step('zhaom logs in and approves');
  const zhaom = await clerkLogin(browser, pages, 'zhaom');
  await openFromTodo(zhaom, caseNumber, 'zhaom');
  await actOnPage(zhaom, 'approve', '同意出具无犯罪记录证明。');
  const status = await zhaom.locator('#case-status').innerText();
  check(status.includes('办结'), `the case is concluded: ${status}`);
  const timeline = await zhaom.locator('#timeline').innerText();
  for (const want of ['高静', '材料齐全', '经查询', '同意出具']) {
    check(timeline.includes(want), `the timeline shows ${want}:\n${timeline}`);
  }
  await shot(zhaom, 'zhaom-approved');

  step('the decision notice is a PDF');
  const link = zhaom.locator('#notice-decision');
  await link.waitFor();
  const href = await link.getAttribute('href');
  const res = await zhaom.context().request.get(new URL(href, BASE).toString());
  check(res.status() === 200, `decision notice answered ${res.status()}`);
  check(
    (res.headers()['content-type'] ?? '').startsWith('application/pdf'),
    `decision notice type ${res.headers()['content-type']}`,
  );
  const body = await res.body();
  check(body.subarray(0, 5).toString('latin1') === '%PDF-', 'the notice starts like a PDF');
  writeFileSync(join(SCREENS, 'clerk-decision.pdf'), body);
  step(`decision notice: ${body.length} bytes`);

  step('the concluded case is in 办结 for gaoj');
  await gaoj.goto(`${BASE}/clerk/inbox/concluded`);
  await gaoj.locator(`#inbox-table tr[data-case="${caseNumber}"]`).waitFor();
  await shot(gaoj, 'gaoj-concluded');
});
