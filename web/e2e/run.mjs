#!/usr/bin/env node
// End-to-end tests of the built web client against a real `swiper serve`
// with a fresh database, driven by playwright-core and Debian's Chromium.
//
//   SWIPER_BIN=/tmp/swiper npm run e2e
//
// Env: SWIPER_BIN (required: a built swiper binary), CHROMIUM (default
// /usr/bin/chromium), E2E_ONLY (comma-separated scenario names),
// E2E_KEEP=1 (keep the temp dir and print the server log).
// Each scenario runs on its own; the last line is 'e2e: N passed, M failed'.
// Scenarios run in English (en-US) and Chinese (zh-CN) browsers; the 375 px
// screenshots of deck, match, chat and profile go to docs/ (Chinese without
// a suffix, English with -en).
import { spawn, execFile } from 'node:child_process'
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createRequire } from 'node:module'
import { chromium } from 'playwright-core'

const require = createRequire(import.meta.url)
const here = dirname(fileURLToPath(import.meta.url))
const shots = join(here, 'screenshots')
const docs = join(here, '..', '..', 'docs')
const BIN = process.env.SWIPER_BIN
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'
const ONLY = (process.env.E2E_ONLY || '').split(',').map((s) => s.trim()).filter(Boolean)
const t0 = Date.now()

if (!BIN) {
  console.error('e2e: set SWIPER_BIN to a built swiper binary (go build -o /tmp/swiper ./cmd/swiper)')
  console.log('e2e: 0 passed, 1 failed')
  process.exit(2)
}

// ---------------------------------------------------------------- server --
const tmp = mkdtempSync(join(tmpdir(), 'swiper-e2e-'))
const port = await freePort()
const base = `http://127.0.0.1:${port}`
const env = {
  ...process.env,
  SWIPER_ADDR: `127.0.0.1:${port}`,
  SWIPER_DATABASE_URL: `sqlite:///${join(tmp, 'swiper.db').replace(/^\//, '')}`,
  SWIPER_MEDIA_DIR: join(tmp, 'media'),
  SWIPER_OTP_IP_LIMIT: '0',
  SWIPER_REDIS_URL: '',
  SWIPER_SMS_PROVIDER: 'console',
}
mkdirSync(env.SWIPER_MEDIA_DIR, { recursive: true })
const logLines = []
const server = spawn(resolve(BIN), ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
let serverExited = null
server.on('exit', (code, sig) => (serverExited = `exit ${code ?? sig}`))
for (const stream of [server.stdout, server.stderr]) {
  let buf = ''
  stream.setEncoding('utf8')
  stream.on('data', (d) => {
    buf += d
    let i
    while ((i = buf.indexOf('\n')) >= 0) {
      logLines.push(buf.slice(0, i))
      buf = buf.slice(i + 1)
    }
  })
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer()
    s.unref()
    s.on('error', rej)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => res(port))
    })
  })
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function waitHealthy() {
  const until = Date.now() + 60_000
  while (Date.now() < until) {
    if (serverExited) throw new Error(`swiper serve stopped (${serverExited}):\n${logLines.slice(-20).join('\n')}`)
    try {
      const r = await fetch(`${base}/healthz`)
      if (r.ok) return
    } catch {
      // not up yet
    }
    await sleep(150)
  }
  throw new Error('swiper serve did not become healthy in 60 s')
}

const execFileP = promisify(execFile)
async function swiperCmd(...args) {
  const { stdout, stderr } = await execFileP(resolve(BIN), args, { env, timeout: 30_000 })
  return stdout + stderr
}

const CODE_MSG = 'sms (console provider): verification code'
/** The code logged for `phone` after log line `from`. */
async function codeFor(phone, from) {
  const tail = phone.slice(-2)
  const until = Date.now() + 15_000
  while (Date.now() < until) {
    for (let i = logLines.length - 1; i >= from; i--) {
      const l = logLines[i]
      if (!l.includes(CODE_MSG)) continue
      const p = /phone=("?)([^\s"]+)\1/.exec(l)
      if (p && !p[2].endsWith(tail)) continue
      const m = /code=("?)(\d{6})\1/.exec(l)
      if (m) return m[2]
    }
    await sleep(100)
  }
  throw new Error(`no verification code logged for ${phone}`)
}

// --------------------------------------------------------------- browser --
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
})

/** A fresh phone-sized browser context that records requests leaving the server. */
async function newUser(opts = {}) {
  const locale = opts.locale || 'en-US'
  const context = await browser.newContext({
    viewport: opts.viewport || { width: 375, height: 812 },
    deviceScaleFactor: 2,
    locale,
    hasTouch: !!opts.touch,
    isMobile: !!opts.touch,
  })
  const page = await context.newPage()
  page.setDefaultTimeout(10_000)
  const external = []
  const requests = []
  context.on('request', (r) => {
    const u = r.url()
    requests.push(`${r.method()} ${u}`)
    if (!u.startsWith(base) && !u.startsWith(base.replace('http', 'ws')) && !u.startsWith('data:') && !u.startsWith('blob:')) external.push(u)
  })
  const errors = []
  page.on('pageerror', (e) => errors.push(String(e)))
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text())
  })
  return { context, page, external, requests, errors, zh: locale.startsWith('zh') }
}

async function closeUser(u) {
  if (u.external.length) throw new Error(`fetched from outside the binary: ${u.external.join(', ')}`)
  if (u.errors.length) throw new Error(`page errors: ${u.errors.join('; ')}`)
  await u.context.close()
}

/** The text a user sees, by language. */
const L = (u, en, zh) => (u.zh ? zh : en)

let codeLock = Promise.resolve()
/** Request a code on the login page and read it from the server log. */
async function requestCode(u, phone) {
  const { page } = u
  await page.fill('#phone', phone)
  // Codes are requested one phone at a time so the log line is unambiguous.
  const run = codeLock.then(async () => {
    const from = logLines.length
    await page.click('button[type="submit"]')
    await page.waitForSelector('#code')
    return codeFor(phone, from)
  })
  codeLock = run.catch(() => undefined)
  return run
}

/** Log in through the SMS flow: phone → send code → code from the server log → deck. */
async function login(u, phone) {
  const { page } = u
  await page.goto(`${base}/login`)
  const send = await page.textContent('button[type="submit"]')
  if (send.trim() !== L(u, 'Send code', '获取验证码')) throw new Error(`login page not in ${u.zh ? 'Chinese' : 'English'}: ${send}`)
  const code = await requestCode(u, phone)
  const resend = await page.textContent('[data-testid="resend"]')
  if (!(u.zh ? /\d+ 秒后可重新发送/ : /Resend code in \d+ s/).test(resend || '')) throw new Error(`no resend countdown shown: ${resend}`)
  await page.fill('#code', code)
  await page.click('button[type="submit"]')
  await page.waitForURL(`${base}/`)
  return code
}

async function api(u, method, path, data) {
  const r = await u.page.request.fetch(`${base}${path}`, { method, data, failOnStatusCode: false })
  const body = await r.json().catch(() => null)
  if (!r.ok() || !body || body.code !== 0) throw new Error(`${method} ${path}: HTTP ${r.status()} ${JSON.stringify(body)}`)
  return body.data
}

/** Put a user alone with the scenario's other users: own city, gender, wishes and a name. */
async function setUp(u, { city, gender, dating, nickname }) {
  await api(u, 'PATCH', '/api/v1/users/me', nickname ? { city, gender, nickname } : { city, gender })
  await api(u, 'PATCH', '/api/v1/users/me/profile', { dating_gender: dating })
}

/** Drag the top card with the mouse, in small steps like a person. */
async function dragTopCard(page, dx, dy = 0) {
  const card = page.locator('[data-testid="top-card"]')
  const box = await card.boundingBox()
  if (!box) throw new Error('no top card')
  const x = box.x + box.width / 2
  const y = box.y + box.height / 2
  await page.mouse.move(x, y)
  await page.mouse.down()
  for (let i = 1; i <= 12; i++) {
    await page.mouse.move(x + (dx * i) / 12, y + (dy * i) / 12)
    if (i === 8) {
      const stamp = dx > 0 ? '.stamp.like' : dx < 0 ? '.stamp.nope' : '.stamp.super'
      const op = await page.locator(`[data-testid="top-card"] ${stamp}`).evaluate((e) => getComputedStyle(e).opacity)
      if (!(Number(op) > 0.5)) throw new Error(`stamp ${stamp} not shown while dragging (opacity ${op})`)
    }
    await sleep(16)
  }
  await page.mouse.up()
}

/** Drag the top card with a finger (CDP touch events). */
async function touchDragTopCard(page, dx, dy = 0) {
  const box = await page.locator('[data-testid="top-card"]').boundingBox()
  if (!box) throw new Error('no top card')
  const x = box.x + box.width / 2
  const y = box.y + box.height / 2
  const cdp = await page.context().newCDPSession(page)
  const touch = (type, px, py) =>
    cdp.send('Input.dispatchTouchEvent', { type, touchPoints: type === 'touchEnd' ? [] : [{ x: px, y: py, id: 1 }] })
  await touch('touchStart', x, y)
  for (let i = 1; i <= 12; i++) {
    await touch('touchMove', x + (dx * i) / 12, y + (dy * i) / 12)
    await sleep(16)
  }
  await touch('touchEnd', x + dx, y + dy)
  await cdp.detach()
}

async function topCardName(page) {
  const el = page.locator('[data-testid="top-card"]')
  await el.waitFor()
  return el.locator('.name').textContent()
}

async function topCardId(page) {
  const el = page.locator('[data-testid="top-card"]')
  await el.waitFor()
  return Number(await el.getAttribute('data-user-id'))
}

async function noHorizontalScroll(page) {
  const w = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth])
  if (w[0] > w[1]) throw new Error(`horizontal scroll at ${w[1]} px: scrollWidth ${w[0]} > ${w[1]}`)
}

/** A screenshot in e2e/screenshots; with `doc`, also docs/screenshot-<doc>.png. */
async function screenshot(page, name, doc) {
  mkdirSync(shots, { recursive: true })
  await page.screenshot({ path: join(shots, `${name}.png`) })
  if (doc) {
    mkdirSync(docs, { recursive: true })
    await page.screenshot({ path: join(docs, `screenshot-${doc}.png`) })
  }
}

/** Wait until the avatar illustrations (a lazy chunk) are drawn. */
async function illustrationsDrawn(page) {
  await page.waitForFunction(() => !document.querySelector('img[src^="data:image/svg+xml;utf8,%3Csvg%20xmlns%3D%22http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%22%20viewBox%3D%220%200%2064%2064%22%3E%3Crect%20width%3D%2264%22%20height%3D%2264%22%20fill%3D%22%23f6dde5%22"]'))
  await sleep(150)
}

let axeSource = ''
async function axe(page, what) {
  // Evaluated through the DevTools protocol: the server's CSP forbids inline scripts.
  if (!axeSource) axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
  await page.evaluate(axeSource)
  const res = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } })
    return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(' | ')}`)
  })
  if (res.length) throw new Error(`axe on ${what}:\n  ${res.join('\n  ')}`)
}

let phoneSeq = 10
const nextPhone = () => `138000000${String(phoneSeq++).padStart(2, '0')}`

/** Messages with this text on a chat page. */
const bubbles = (page, text) => page.locator('[data-testid="message"]', { hasText: text })

async function waitCount(locator, n, what) {
  const until = Date.now() + 15_000
  for (;;) {
    const c = await locator.count()
    if (c === n) return
    if (Date.now() > until) throw new Error(`${what}: ${c} instead of ${n}`)
    await sleep(100)
  }
}

/**
 * Two people match (mouse and touch), "Say hi" opens the chat, they talk
 * live over the socket, read ticks show, and a network drop loses and
 * doubles nothing. Screenshots of deck, match, chat and profile.
 */
async function matchAndChat(locale) {
  const zh = locale === 'zh-CN'
  const doc = (n) => (zh ? n : `${n}-en`)
  const city = zh ? 'E2E配对' : 'E2E Match'
  const a = await newUser({ locale })
  const b = await newUser({ touch: true, locale })
  const extras = [await newUser({ locale }), await newUser({ locale })]
  await login(a, nextPhone())
  await login(b, nextPhone())
  await setUp(a, { city, gender: 'male', dating: 'female', nickname: zh ? '小明' : 'Ming' })
  await setUp(b, { city, gender: 'female', dating: 'male', nickname: zh ? '小红' : 'Hong' })
  const names = zh ? ['小雨', '晓晴'] : ['Lily', 'Grace']
  for (const [i, x] of extras.entries()) {
    await login(x, nextPhone())
    await setUp(x, { city, gender: 'female', dating: 'male', nickname: names[i] })
  }
  const meA = await api(a, 'GET', '/api/v1/users/me')
  const meB = await api(b, 'GET', '/api/v1/users/me')

  await a.page.goto(`${base}/`)
  await topCardName(a.page)
  const nav = await a.page.locator('nav.tabs').textContent()
  if (!nav.includes(L(a, 'Discover', '发现')) || !nav.includes(L(a, 'Messages', '消息'))) throw new Error(`nav not in ${locale}: ${nav}`)
  const bar = await a.page.getAttribute('[role="toolbar"]', 'aria-label')
  if (bar !== L(a, 'Swipe actions', '滑动操作')) throw new Error(`toolbar label: ${bar}`)
  if ((await a.page.getAttribute('html', 'lang')) !== (zh ? 'zh-CN' : 'en')) throw new Error('html lang')
  await noHorizontalScroll(a.page)
  await illustrationsDrawn(a.page)
  await screenshot(a.page, `deck-${locale}`, doc('deck'))
  // Pass on the others until B is on top, then drag B to the right.
  for (let i = 0; (await topCardName(a.page)) !== meB.nickname; i++) {
    if (i > 3) throw new Error("B never reached the top of A's deck")
    const id = await topCardId(a.page)
    await a.page.keyboard.press('ArrowLeft')
    await a.page.locator(`[data-testid="top-card"][data-user-id="${id}"]`).waitFor({ state: 'detached' })
  }
  await dragTopCard(a.page, 160, 10)
  await a.page.locator(`[data-testid="top-card"][data-user-id="${meB.id}"]`).waitFor({ state: 'detached' })
  await a.page.waitForFunction((w) => document.querySelector('[data-testid="live"]')?.textContent?.startsWith(w), L(a, 'Liked', '已喜欢'))

  await b.page.goto(`${base}/`)
  if ((await topCardName(b.page)) !== meA.nickname) throw new Error(`B's top card is not A`)
  await touchDragTopCard(b.page, 170, 0)
  const overlay = b.page.locator('[data-testid="match-overlay"]')
  await overlay.waitFor()
  if (!(await overlay.textContent()).includes(meA.nickname)) throw new Error('overlay does not name A')
  await illustrationsDrawn(b.page)
  await sleep(300)
  await screenshot(b.page, `match-${locale}`, doc('match'))
  await b.page.getByRole('button', { name: L(b, 'Say hi', '打个招呼') }).click()
  await b.page.waitForURL(`${base}/chat/${meA.id}`)

  // A: the new match is in Messages (pushed live over the socket or loaded).
  await a.page.goto(`${base}/messages`)
  const fresh = a.page.locator('[data-testid="new-matches"] a', { hasText: meB.nickname })
  await fresh.waitFor()
  await axe(a.page, `messages (${locale})`)
  await fresh.click()
  await a.page.waitForURL(`${base}/chat/${meB.id}`)
  await a.page.locator('[data-testid="chat-input"]').waitFor()

  // B says hi; A sees it live, without a reload.
  const hi = zh ? '你好呀！周末有空吗？' : 'Hi! Free this weekend?'
  await b.page.fill('[data-testid="chat-input"]', hi)
  await b.page.keyboard.press('Enter')
  await bubbles(b.page, hi).and(b.page.locator('[data-state="sent"]')).waitFor()
  await bubbles(a.page, hi).waitFor()
  // A answers with the button; B (on the chat) reads it, A's tick turns to read.
  const reply = zh ? '有空！去看展怎么样？' : 'Yes! A gallery, maybe?'
  await a.page.fill('[data-testid="chat-input"]', reply)
  await a.page.click('[data-testid="chat-send"]')
  await bubbles(b.page, reply).waitFor()
  await a.page.locator('[data-testid="message"]', { hasText: reply }).locator('[data-testid="message-status"]', { hasText: L(a, 'Read', '已读') }).waitFor()

  // The network drops on A's side; B writes meanwhile; A comes back: once, not twice.
  await a.context.setOffline(true)
  await a.page.locator('[data-testid="offline-bar"]').waitFor()
  const away = zh ? '你还在吗？' : 'Still there?'
  await b.page.fill('[data-testid="chat-input"]', away)
  await b.page.keyboard.press('Enter')
  await bubbles(b.page, away).and(b.page.locator('[data-state="sent"]')).waitFor()
  await sleep(500)
  await a.context.setOffline(false)
  await bubbles(a.page, away).waitFor({ timeout: 20_000 })
  await sleep(1500)
  for (const [u, who] of [[a, 'A'], [b, 'B']]) {
    for (const t of [hi, reply, away]) await waitCount(bubbles(u.page, t), 1, `${who} sees "${t}"`)
  }
  await noHorizontalScroll(b.page)
  await axe(b.page, `chat (${locale})`)
  await screenshot(b.page, `chat-${locale}`, doc('chat'))
  // Desktop: the conversation list beside the chat.
  await b.page.setViewportSize({ width: 1280, height: 800 })
  await b.page.locator('aside.side [data-testid="conversation-list"]').waitFor()
  await noHorizontalScroll(b.page)
  await axe(b.page, `chat at 1280 px (${locale})`)
  await screenshot(b.page, `chat-1280-${locale}`)

  // The server and the badge agree: nothing unread after reading it all.
  const convs = await api(a, 'GET', '/api/v1/conversations')
  if (convs.conversations.some((c) => c.unread !== 0)) throw new Error(`unread left on the server: ${JSON.stringify(convs)}`)
  await a.page.goto(`${base}/profile`)
  await a.page.locator('[data-testid="prefs-form"]').waitFor()
  await illustrationsDrawn(a.page)
  await sleep(500)
  if ((await a.page.locator('[data-testid="unread-total"]').count()) > 0) throw new Error('an unread badge after a reload, with nothing unread')
  await noHorizontalScroll(a.page)
  await screenshot(a.page, `profile-${locale}`, doc('profile'))
  for (const u of [a, b, ...extras]) await closeUser(u)
}

// ------------------------------------------------------------- scenarios --
const scenarios = {
  'match-chat-zh': () => matchAndChat('zh-CN'),
  'match-chat-en': () => matchAndChat('en-US'),

  /** A free user sees the honest locked teaser; the likers route is never called. */
  async 'likes-locked'() {
    const u = await newUser()
    await login(u, nextPhone())
    await u.page.getByRole('link', { name: 'Likes you' }).click()
    await u.page.locator('[data-testid="likes-locked"]').waitFor()
    const text = await u.page.locator('[data-testid="likes-locked"]').textContent()
    if (!text.includes('Gold VIP')) throw new Error('teaser does not name Gold VIP')
    if (/\?/.test(text)) throw new Error('teaser shows placeholder tiles')
    if (u.requests.some((r) => r.includes('/api/v1/likes/received'))) throw new Error('likers were fetched')
    await closeUser(u)
  },

  /** Rewind is disabled before a swipe; a free user gets the upgrade prompt; a VIP rewinds a pass. */
  async 'vip-rewind'() {
    const v = await newUser()
    const o1 = await newUser()
    const o2 = await newUser()
    const pv = nextPhone()
    await login(v, pv)
    await login(o1, nextPhone())
    await login(o2, nextPhone())
    await setUp(v, { city: 'E2E反悔', gender: 'male', dating: 'female' })
    await setUp(o1, { city: 'E2E反悔', gender: 'female', dating: 'male' })
    await setUp(o2, { city: 'E2E反悔', gender: 'female', dating: 'male' })

    await v.page.goto(`${base}/`)
    await topCardName(v.page)
    const rewind = v.page.getByRole('button', { name: 'Rewind (Backspace)' })
    if (!(await rewind.isDisabled())) throw new Error('rewind enabled before any swipe')
    // Before VIP: after a pass, rewind opens the upgrade prompt.
    const first = await topCardId(v.page)
    await v.page.keyboard.press('ArrowLeft')
    await v.page.locator(`[data-testid="top-card"][data-user-id="${first}"]`).waitFor({ state: 'detached' })
    await rewind.click()
    await v.page.locator('[data-testid="upgrade-prompt"]').waitFor()
    await v.page.keyboard.press('Escape')
    await v.page.locator('[data-testid="upgrade-prompt"]').waitFor({ state: 'detached' })

    await swiperCmd('vip', 'grant', '--phone', pv, '--level', '3', '--days', '30')
    // The grant is written by another process; the embedded server's user
    // cache lets it through within 5 s (with Redis the CLI invalidates it).
    for (let i = 0; ; i++) {
      const me = await api(v, 'GET', '/api/v1/users/me')
      if (me.vip.level === 3) break
      if (i > 100) throw new Error('VIP grant never became visible')
      await sleep(100)
    }
    await v.page.reload()
    const second = await topCardId(v.page)
    if (second === first) throw new Error('the passed card came back without a rewind')
    await v.page.keyboard.press('ArrowLeft')
    await v.page.locator('[data-testid="deck-empty"]').waitFor()
    await v.page.keyboard.press('Backspace')
    await v.page.locator(`[data-testid="top-card"][data-user-id="${second}"]`).waitFor()
    await v.page.waitForFunction(() => document.querySelector('[data-testid="live"]')?.textContent?.startsWith('Rewound'))
    // The VIP page shows the level.
    await v.page.goto(`${base}/vip`)
    await v.page.locator('[data-testid="vip-status"]', { hasText: 'Gold VIP' }).waitFor()
    for (const u of [v, o1, o2]) await closeUser(u)
  },

  /** Readable field errors next to the field; sliders cannot cross; saving is confirmed. */
  async 'profile-validation'() {
    const u = await newUser()
    await login(u, nextPhone())
    await u.page.goto(`${base}/profile`) // a deep link: served by the SPA fallback
    await u.page.locator('[data-testid="prefs-form"]').waitFor()
    await noHorizontalScroll(u.page)
    const today = new Date().toISOString().slice(0, 10)
    await u.page.fill('#birthday', today)
    await u.page.locator('[data-testid="info-form"] button[type="submit"]').click()
    await u.page.locator('[data-testid="info-form"] [role="alert"]').waitFor()
    const invalid = await u.page.getAttribute('#birthday', 'aria-invalid')
    const fieldErr = await u.page.locator('[data-testid="birthday-error"]').textContent()
    if (invalid !== 'true' || !/at least 18/.test(fieldErr)) throw new Error(`no readable field error next to the birthday: ${fieldErr}`)
    // Preferences: the minimum cannot pass the maximum.
    await u.page.locator('#max_distance').fill('10')
    await u.page.locator('#min_distance').fill('40')
    const [mn, mx] = await u.page.evaluate(() => [document.querySelector('#min_distance').value, document.querySelector('#max_distance').value].map(Number))
    if (mn > mx) throw new Error(`sliders crossed: ${mn} > ${mx}`)
    await u.page.locator('[data-testid="prefs-form"] button[type="submit"]').click()
    await u.page.locator('[data-testid="prefs-saved"]').waitFor()
    await u.page.locator('[data-testid="toast"]').waitFor()
    await closeUser(u)
  },

  /** Chinese by default for a Chinese browser, switchable in Me and remembered; axe in both languages. */
  async 'i18n-a11y'() {
    const z = await newUser({ locale: 'zh-CN' })
    await z.page.goto(`${base}/matches`)
    await z.page.waitForURL(/\/login\?next=(%2F|\/)messages/)
    if ((await z.page.textContent('.lead')).trim() !== '用手机号登录或注册。') throw new Error('login is not in Chinese')
    await axe(z.page, 'login (zh-CN)')
    const phone = nextPhone()
    const code = await requestCode(z, phone)
    await z.page.fill('#code', code === '000000' ? '111111' : '000000')
    await z.page.click('button[type="submit"]')
    const msg = await z.page.locator('[role="alert"]').textContent()
    if (!/验证码错误/.test(msg)) throw new Error(`wrong-code message: ${msg}`)
    await z.page.fill('#code', code)
    await z.page.click('button[type="submit"]')
    await z.page.waitForURL(`${base}/messages`)
    for (const path of ['/', '/messages', '/profile', '/vip', '/likes', '/rank']) {
      await z.page.goto(`${base}${path}`)
      await z.page.locator('main h1').first().waitFor()
      await noHorizontalScroll(z.page)
      await axe(z.page, `${path} (zh-CN)`)
      await screenshot(z.page, `zh-CN${path === '/' ? '-deck' : path.replace('/', '-')}`)
    }
    // Switch to English in Me: at once, and still after a reload.
    await z.page.goto(`${base}/profile`)
    await z.page.locator('[data-testid="language-switch"] input[value="en"]').check()
    await z.page.locator('nav.tabs', { hasText: 'Discover' }).waitFor()
    await z.page.reload()
    await z.page.locator('nav.tabs', { hasText: 'Discover' }).waitFor()
    if ((await z.page.getAttribute('html', 'lang')) !== 'en') throw new Error('html lang not en after the switch')
    await z.page.getByRole('button', { name: 'Log out' }).click()
    await z.page.waitForURL(/\/login/)
    await closeUser(z)

    const e = await newUser({ locale: 'en-US' })
    await e.page.goto(`${base}/login`)
    if ((await e.page.textContent('.lead')).trim() !== 'Log in or sign up with your phone number.') throw new Error('login is not in English')
    await axe(e.page, 'login (en-US)')
    await login(e, nextPhone())
    for (const path of ['/', '/messages', '/profile', '/vip', '/likes', '/rank']) {
      await e.page.goto(`${base}${path}`)
      await e.page.locator('main h1').first().waitFor()
      await noHorizontalScroll(e.page)
      await axe(e.page, `${path} (en-US)`)
    }
    // At 1280 px the width is used: side navigation, deck beside the messages.
    await e.page.setViewportSize({ width: 1280, height: 800 })
    await e.page.goto(`${base}/`)
    await e.page.locator('aside.side').waitFor()
    await noHorizontalScroll(e.page)
    await axe(e.page, '/ at 1280 px')
    await screenshot(e.page, 'deck-1280-en')
    await closeUser(e)
  },

  /** Installable: the manifest and service worker are served; the shell opens offline after a visit. */
  async pwa() {
    const u = await newUser({ locale: 'zh-CN' })
    const r = await u.page.request.get(`${base}/manifest.webmanifest`)
    if (!r.ok()) throw new Error(`manifest: HTTP ${r.status()}`)
    const m = await r.json()
    if (m.name !== 'Swiper' || m.display !== 'standalone' || !m.theme_color) throw new Error(`manifest: ${JSON.stringify(m)}`)
    for (const size of ['192x192', '512x512']) {
      const icon = m.icons.find((i) => i.sizes === size && i.type === 'image/png')
      if (!icon) throw new Error(`no ${size} icon`)
      const ir = await u.page.request.get(`${base}${icon.src}`)
      if (!ir.ok() || (await ir.body()).subarray(1, 4).toString() !== 'PNG') throw new Error(`icon ${icon.src} not served`)
    }
    const sw = await u.page.request.get(`${base}/sw.js`)
    if (!sw.ok() || !/javascript/.test(sw.headers()['content-type'] || '')) throw new Error('sw.js not served as JavaScript')
    await login(u, nextPhone())
    await u.page.goto(`${base}/login`) // logged in: goes to the deck
    await u.page.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready
      return reg.active?.state
    })
    await u.page.waitForFunction(async () => (await caches.keys()).length > 0)
    // Only the shell is cached: never API answers or media.
    const cached = await u.page.evaluate(async () => {
      const out = []
      for (const k of await caches.keys()) for (const req of await (await caches.open(k)).keys()) out.push(new URL(req.url).pathname)
      return out
    })
    if (!cached.includes('/index.html')) throw new Error(`index.html not precached: ${cached.join(' ')}`)
    const bad = cached.filter((p) => p.startsWith('/api/') || p.startsWith('/media/'))
    if (bad.length) throw new Error(`cached API or media: ${bad.join(' ')}`)
    await u.context.setOffline(true)
    await u.page.reload()
    await u.page.locator('[data-testid="offline"]').waitFor()
    const title = await u.page.textContent('#offline-title')
    if (title !== '网络已断开') throw new Error(`offline screen: ${title}`)
    await axe(u.page, 'offline screen')
    await u.context.setOffline(false)
    await u.page.getByRole('button', { name: '重试' }).click()
    await u.page.locator('[data-testid="offline"]').waitFor({ state: 'detached' })
    await u.page.locator('main h1').first().waitFor()
    await closeUser(u)
  },

  /** Report from a card (gone for good), block in chat, delete an account, a banned user's screen. */
  async safety() {
    const r = await newUser()
    const s = await newUser()
    const t = await newUser()
    await login(r, nextPhone())
    await login(s, nextPhone())
    await login(t, nextPhone())
    await setUp(r, { city: 'E2E安全', gender: 'male', dating: 'female' })
    await setUp(s, { city: 'E2E安全', gender: 'female', dating: 'male' })
    await setUp(t, { city: 'E2E安全', gender: 'female', dating: 'male' })
    const users = { [(await api(s, 'GET', '/api/v1/users/me')).id]: s, [(await api(t, 'GET', '/api/v1/users/me')).id]: t }

    // R reports whoever is on top (X) from the card; the other one is Y.
    await r.page.goto(`${base}/`)
    const xId = await topCardId(r.page)
    const x = users[xId]
    const y = x === s ? t : s
    const meX = await api(x, 'GET', '/api/v1/users/me')
    const meY = await api(y, 'GET', '/api/v1/users/me')
    await r.page.click('[data-testid="card-safety"]')
    await r.page.click('[data-testid="safety-report"]')
    await r.page.check('input[name="reason"][value="fake_profile"]')
    await r.page.fill('#report-note', 'e2e: photos of someone else')
    await axe(r.page, 'report sheet')
    await r.page.click('[data-testid="safety-confirm"]')
    await r.page.locator('[data-testid="safety-done"]').waitFor()
    await r.page.click('[data-testid="safety-close"]')
    await r.page.locator(`[data-testid="top-card"][data-user-id="${meX.id}"]`).waitFor({ state: 'detached' })
    for (let i = 0; i < 2; i++) {
      await r.page.reload()
      await r.page.locator('[data-testid="top-card"], [data-testid="deck-empty"]').first().waitFor()
      if ((await r.page.locator(`[data-user-id="${meX.id}"]`).count()) > 0) throw new Error('the reported user came back')
    }
    await r.page.goto(`${base}/profile`)
    await r.page.locator('[data-testid="blocked-list"] li', { hasText: meX.nickname }).waitFor()

    // R and Y match; Y deletes the account; R no longer sees Y.
    await api(r, 'POST', '/api/v1/swipes', { user_id: meY.id, action: 'like' })
    await api(y, 'POST', '/api/v1/swipes', { user_id: (await api(r, 'GET', '/api/v1/users/me')).id, action: 'like' })
    await r.page.goto(`${base}/messages`)
    await r.page.locator('[data-testid="new-matches"] a', { hasText: meY.nickname }).waitFor()
    await y.page.goto(`${base}/profile`)
    await y.page.click('[data-testid="delete-account"]')
    await y.page.locator('[data-testid="delete-dialog"]').waitFor()
    await axe(y.page, 'delete dialog')
    await y.page.click('[data-testid="delete-confirm"]')
    await y.page.waitForURL(/\/login/)
    await r.page.reload()
    await r.page.locator('main h1').first().waitFor()
    await sleep(500)
    if ((await r.page.locator('main', { hasText: meY.nickname }).count()) > 0) throw new Error('the deleted user still shows in Messages')

    // A banned user sees the suspended screen.
    const pb = nextPhone()
    const banned = await newUser({ locale: 'zh-CN' })
    await login(banned, pb)
    await swiperCmd('ban', '--phone', pb, '--reason', 'e2e')
    await banned.page.goto(`${base}/login`)
    await banned.page.waitForURL(/\/login/)
    await banned.page.fill('#phone', pb)
    await banned.page.click('button[type="submit"]')
    await banned.page.locator('[data-testid="suspended"]').waitFor()
    if ((await banned.page.textContent('#suspended-title')) !== '账号已被封禁') throw new Error('suspended screen not in Chinese')
    await axe(banned.page, 'suspended')
    for (const u of [r, s, t, banned]) await closeUser(u)
  },
}

// ------------------------------------------------------------------ main --
let passed = 0
let failed = 0
try {
  await waitHealthy()
  console.log(`e2e: swiper serve is up at ${base} (${Date.now() - t0} ms)`)
  for (const [name, fn] of Object.entries(scenarios)) {
    if (ONLY.length && !ONLY.includes(name)) continue
    const s = Date.now()
    try {
      await fn()
      passed++
      console.log(`ok   ${name} (${Date.now() - s} ms)`)
    } catch (e) {
      failed++
      console.log(`FAIL ${name} (${Date.now() - s} ms)\n     ${String(e && e.stack ? e.message : e).split('\n').join('\n     ')}`)
    }
  }
} catch (e) {
  failed++
  console.log(`FAIL setup: ${e.message}`)
} finally {
  await browser.close().catch(() => undefined)
  server.kill('SIGTERM')
  await Promise.race([new Promise((r) => server.once('exit', r)), sleep(5000)])
  if (!serverExited) server.kill('SIGKILL')
  if (process.env.E2E_KEEP) {
    writeFileSync(join(tmp, 'server.log'), logLines.join('\n'))
    console.log(`e2e: kept ${tmp}`)
  } else {
    rmSync(tmp, { recursive: true, force: true })
  }
}
console.log(`e2e: finished in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
console.log(`e2e: ${passed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
