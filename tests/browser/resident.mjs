// The resident's journey on a phone: find 无犯罪记录证明, read its guide,
// log in, apply with the required materials, see the case in 我的办件,
// answer a correction request (一次性告知) by uploading the missing
// material, and follow the case to 办结（准予） with its whole timeline.
// The clerks' side goes through the JSON API (gaoj, liuy, zhaom each log
// in once, so no TOTP code is used twice).

import {
  NO_RECORD_NAME,
  PASSWORD,
  RESIDENT_PHONE,
  act,
  check,
  journey,
  pngFiles,
  screenshots,
  staffLogin,
  step,
  BASE,
} from './lib.mjs';

const shot = screenshots('resident');
const FIRST_MATERIAL = '申请人居民身份证';

await journey('resident', async (browser, pages) => {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
  });
  const page = await context.newPage();
  pages.push(page);
  const [idPng, formPng, fixedPng] = pngFiles([
    'id-card.png',
    'application-form.png',
    'id-card-clear.png',
  ]);

  step('home page');
  await page.goto(`${BASE}/`);
  check((await page.title()).includes('卫东区政务服务网'), `home title: ${await page.title()}`);
  await shot(page, 'home');

  step(`search ${'无犯罪记录'}`);
  await page.fill('#q', '无犯罪记录');
  await page.click('#search-submit');
  const hit = page.locator('#matter-list a', { hasText: NO_RECORD_NAME });
  await hit.first().waitFor();
  await shot(page, 'search');

  step('guide page');
  await hit.first().click();
  await page.locator('h1', { hasText: NO_RECORD_NAME }).waitFor();
  check(
    (await page.locator('#guide-materials').innerText()).includes(FIRST_MATERIAL),
    'the guide lists the materials',
  );
  await shot(page, 'guide');

  step('在线申请 → login');
  await page.click('#apply-online');
  await page.waitForURL(/\/login\?next=/);
  await page.fill('#login-phone', RESIDENT_PHONE);
  await page.fill('#login-password', PASSWORD);
  await shot(page, 'login');
  await page.click('#login-submit');
  await page.waitForURL(/\/apply\//);

  step('fill the application form');
  await page.locator('#apply-check').waitFor();
  await page.selectOption('#field-purpose', '应聘');
  await page.fill('#field-receiver', '平顶山市卫东区某科技有限公司');
  await page.setInputFiles('#file-0', idPng);
  await page.setInputFiles('#file-1', formPng);
  await page.check('#apply-pledge');
  await shot(page, 'apply-form');

  step('submit');
  await page.click('#apply-submit');
  await page.waitForURL(/\/my\/cases\/[^/?]+\?notice=submitted/);
  const done = await page.locator('#apply-done').innerText();
  const caseNumber = (await page.locator('#case-number').innerText()).trim();
  check(caseNumber.length >= 10, `a case number on the confirmation: ${caseNumber}`);
  check(done.includes(caseNumber), 'the confirmation names the case number');
  check(done.includes('id-card.png'), 'the confirmation lists the materials received');
  check(
    (await page.locator('#case-status').innerText()).includes('已提交'),
    'the new case is 已提交',
  );
  step(`case ${caseNumber} filed`);
  await shot(page, 'submitted');

  step('我的办件');
  await page.click('nav.main >> text=我的办件');
  await page.waitForURL(/\/my\/cases$/);
  const row = page.locator('#case-list tr', { hasText: caseNumber });
  await row.waitFor();
  check((await row.innerText()).includes('已提交'), 'my cases shows the case as 已提交');
  await shot(page, 'my-cases');

  step('gaoj asks for a correction (JSON API)');
  const gaoj = await staffLogin('gaoj');
  await act(gaoj, caseNumber, 'request_correction', '身份证照片不清晰，请重新上传正面清晰照片。', [
    FIRST_MATERIAL,
  ]);

  step('the resident sees what is missing');
  const caseUrl = `${BASE}/my/cases/${encodeURIComponent(caseNumber)}`;
  await page.goto(caseUrl);
  const items = await page.locator('#correction-items').innerText();
  check(items.includes(FIRST_MATERIAL), `the correction lists ${FIRST_MATERIAL}: ${items}`);
  check(
    (await page.locator('#correction-note').innerText()).includes('不清晰'),
    "the clerk's note is shown",
  );
  await shot(page, 'correction-requested');

  step('upload the correction');
  await page.setInputFiles('#correction-file-0', fixedPng);
  await page.fill('#correction-note-input', '已重新拍摄身份证正面。');
  await shot(page, 'correction-form');
  await page.click('#correction-submit');
  await page.waitForURL(/notice=corrected/);
  const corrected = await page.locator('#case-status').innerText();
  check(corrected.includes('已补正，待受理'), `status after the correction: ${corrected}`);
  await shot(page, 'corrected');

  step('gaoj accepts, liuy passes, zhaom approves (JSON API)');
  await act(gaoj, caseNumber, 'accept', '材料齐全，予以受理。');
  const liuy = await staffLogin('liuy');
  await act(liuy, caseNumber, 'pass', '经查询，申请人无犯罪记录。');
  const zhaom = await staffLogin('zhaom');
  await act(zhaom, caseNumber, 'approve', '同意出具无犯罪记录证明。');

  step('the resident sees the decision and the timeline');
  await page.goto(caseUrl);
  const final = await page.locator('#case-status').innerText();
  check(final.includes('办结（准予）'), `final status: ${final}`);
  const timeline = await page.locator('#case-timeline').innerText();
  for (const want of ['已提交', '补正', '受理', '查询核实', '出具证明', '同意出具无犯罪记录证明']) {
    check(timeline.includes(want), `the timeline shows ${want}:\n${timeline}`);
  }
  const rows = await page.locator('#case-timeline tbody tr').count();
  check(rows >= 5, `the timeline has every step (${rows} rows)`);
  await shot(page, 'approved');

  step('a material link opens the uploaded file');
  const href = await page.locator('#case-materials a').first().getAttribute('href');
  const file = await context.request.get(new URL(href, BASE).toString());
  check(file.status() === 200, `material link answered ${file.status()}`);
  check(
    (await file.body()).subarray(1, 4).toString('latin1') === 'PNG',
    `material link gives the PNG back (${file.headers()['content-type']})`,
  );

  await page.goto(`${BASE}/my/cases`);
  check(
    (await page.locator('#case-list tr', { hasText: caseNumber }).innerText()).includes('办结'),
    'my cases shows the case as concluded',
  );
  await shot(page, 'my-cases-final');
});
