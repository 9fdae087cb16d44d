// Shared pieces of the browser journeys: the browser, screenshots, the
// JSON API, RFC 6238 codes and a generated PNG. Run by tests/tests/browser.rs
// with BASE_URL (the backend) and SCREEN_DIR (where screenshots go).

import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';

export const BASE = (process.env.BASE_URL ?? '').replace(/\/$/, '');
export const SCREENS = process.env.SCREEN_DIR ?? 'screens';
/** Password of every demo account and staff member. */
export const PASSWORD = 'Weidong@2026demo';
/** TOTP secret of every demo staff member. */
export const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
/** The demo resident 张伟. */
export const RESIDENT_PHONE = '13837512345';
/** 无犯罪记录证明 (police, three steps: 受理 → 查询核实 → 出具证明). */
export const NO_RECORD_NAME = '无犯罪记录证明';

if (!BASE) {
  console.error('BASE_URL is not set');
  process.exit(2);
}
mkdirSync(SCREENS, { recursive: true });

const started = Date.now();

/** Prints one step with the time since the start. */
export function step(text) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${text}`);
}

/** Fails the journey with a message. */
export function check(ok, message) {
  if (!ok) {
    throw new Error(message);
  }
}

/**
 * Starts Chromium headless. Playwright gives every launch a fresh
 * temporary --user-data-dir of its own (it refuses one in `args`).
 */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Numbered full-page screenshots under SCREEN_DIR: `<prefix>-NN-<name>.png`. */
export function screenshots(prefix) {
  let n = 0;
  return async (page, name) => {
    n += 1;
    const file = join(SCREENS, `${prefix}-${String(n).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  };
}

/**
 * Runs a journey: a whole-run watchdog, and on failure the page's address
 * and text and a last screenshot, then exit code 1.
 */
export async function journey(prefix, body, { seconds = 240 } = {}) {
  const watchdog = setTimeout(() => {
    console.error(`journey ${prefix} did not finish within ${seconds} s`);
    process.exit(1);
  }, seconds * 1000);
  const browser = await launch();
  const pages = [];
  try {
    await body(browser, pages);
    step(`journey ${prefix} passed`);
  } catch (e) {
    console.error(`journey ${prefix} FAILED: ${e?.stack ?? e}`);
    for (const [i, p] of pages.entries()) {
      if (p.isClosed()) continue;
      console.error(`--- page ${i}: ${p.url()}`);
      const text = await p.locator('body').innerText({ timeout: 2000 }).catch(() => '');
      console.error(text.slice(0, 3000));
      await p
        .screenshot({ path: join(SCREENS, `${prefix}-failed-${i}.png`), fullPage: true })
        .catch(() => {});
    }
    process.exitCode = 1;
  } finally {
    clearTimeout(watchdog);
    await browser.close();
  }
}

// ------------------------------------------------------------------ API

/** One JSON call; throws unless the answer is 2xx. */
export async function api(method, path, { token, body } = {}) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers['x-session-token'] = token;
  const res = await fetch(BASE + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  }
  return text ? JSON.parse(text) : null;
}

/** A staff session token: password, then the current TOTP code. */
export async function staffLogin(username) {
  const pending = await api('POST', '/api/v1/auth/staff/password', {
    body: { username, password: PASSWORD },
  });
  const session = await api('POST', '/api/v1/auth/staff/totp', {
    body: { pending_token: pending.pending_token, code: totp(TOTP_SECRET) },
  });
  return session.token;
}

/** A resident session token. */
export async function residentLogin(phone = RESIDENT_PHONE) {
  const session = await api('POST', '/api/v1/auth/login', { body: { phone, password: PASSWORD } });
  return session.token;
}

/** Acts on a case as staff (`accept`, `pass`, `approve`, `request_correction`, …). */
export async function act(token, caseNumber, action, opinion, items = []) {
  return api('POST', `/api/v1/cases/${encodeURIComponent(caseNumber)}/actions`, {
    token,
    body: { action, opinion, items },
  });
}

/** The code of a matter found by name through the catalogue search. */
export async function matterCode(name) {
  const list = await api('GET', `/api/v1/matters?q=${encodeURIComponent(name)}`);
  const m = list.items.find((x) => x.name === name);
  check(m, `no matter named ${name} in the catalogue`);
  return m.code;
}

// ----------------------------------------------------------------- TOTP

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of text.replace(/=+$/, '').toUpperCase()) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 code (HMAC-SHA1, 30 s steps, 6 digits) at `unixSeconds`. */
export function totp(secretBase32, unixSeconds = Math.floor(Date.now() / 1000)) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac('sha1', base32Decode(secretBase32)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const bin = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(bin % 1_000_000).padStart(6, '0');
}

// ------------------------------------------------------------------ PNG

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A small RGB PNG (a scan-like page with a few dark text lines). */
export function png(width = 120, height = 160, shade = 0) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y += 1) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    const line = y % 16 > 10 && y > 16 && y < height - 16;
    for (let x = 0; x < width; x += 1) {
      const ink = line && x > 10 && x < width - 10 - ((y * 7) % 30);
      const v = ink ? 40 : 245 - shade;
      raw.fill(v, row + 1 + x * 3, row + 4 + x * 3);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Writes PNGs named `names` into a fresh temporary directory; returns their paths. */
export function pngFiles(names) {
  const dir = mkdtempSync(join(tmpdir(), 'wd-materials-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return names.map((name, i) => {
    const path = join(dir, name);
    writeFileSync(path, png(120, 160, i * 20));
    return path;
  });
}
