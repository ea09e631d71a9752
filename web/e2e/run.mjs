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
  const context = await browser.newContext({
    viewport: { width: 375, height: 812 },
    deviceScaleFactor: 2,
    locale: 'en-US',
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
    if (!u.startsWith(base) && !u.startsWith('data:') && !u.startsWith('blob:')) external.push(u)
  })
  const errors = []
  page.on('pageerror', (e) => errors.push(String(e)))
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text())
  })
  return { context, page, external, requests, errors }
}

async function closeUser(u) {
  if (u.external.length) throw new Error(`fetched from outside the binary: ${u.external.join(', ')}`)
  if (u.errors.length) throw new Error(`page errors: ${u.errors.join('; ')}`)
  await u.context.close()
}

let codeLock = Promise.resolve()
/** Log in through the SMS flow: phone → send code → code from the server log → deck. */
async function login(u, phone) {
  const { page } = u
  await page.goto(`${base}/login`)
  await page.fill('#phone', phone)
  // Codes are requested one phone at a time so the log line is unambiguous.
  const run = codeLock.then(async () => {
    const from = logLines.length
    await page.click('button[type="submit"]')
    await page.waitForSelector('#code')
    return codeFor(phone, from)
  })
  codeLock = run.catch(() => undefined)
  const code = await run
  const resend = await page.textContent('[data-testid="resend"]')
  if (!/Resend code in \d+ s/.test(resend || '')) throw new Error(`no resend countdown shown: ${resend}`)
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

/** Put a user alone with the scenario's other users: own city, gender and wishes. */
async function setUp(u, { city, gender, dating }) {
  await api(u, 'PATCH', '/api/v1/users/me', { city, gender })
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

async function noHorizontalScroll(page) {
  const w = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth])
  if (w[0] > w[1]) throw new Error(`horizontal scroll at 375 px: scrollWidth ${w[0]} > ${w[1]}`)
}

async function screenshot(page, name) {
  mkdirSync(shots, { recursive: true })
  await page.screenshot({ path: join(shots, `${name}.png`) })
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

// ------------------------------------------------------------- scenarios --
const scenarios = {
  /** The SMS flow for two users, a mouse swipe and a touch swipe, the match overlay, the matches list. */
  async 'login-match'() {
    const a = await newUser()
    const b = await newUser({ touch: true })
    const pa = nextPhone()
    const pb = nextPhone()
    await login(a, pa)
    await login(b, pb)
    await setUp(a, { city: 'E2E配对', gender: 'male', dating: 'female' })
    await setUp(b, { city: 'E2E配对', gender: 'female', dating: 'male' })
    const meA = await api(a, 'GET', '/api/v1/users/me')
    const meB = await api(b, 'GET', '/api/v1/users/me')

    await a.page.goto(`${base}/`)
    if ((await topCardName(a.page)) !== meB.nickname) throw new Error(`A's top card is not B`)
    await noHorizontalScroll(a.page)
    await screenshot(a.page, 'deck')
    await dragTopCard(a.page, 160, 10)
    await a.page.locator(`[data-testid="top-card"][data-user-id="${meB.id}"]`).waitFor({ state: 'detached' })
    await a.page.waitForFunction(() => document.querySelector('[data-testid="live"]')?.textContent?.startsWith('Liked'))

    await b.page.goto(`${base}/`)
    if ((await topCardName(b.page)) !== meA.nickname) throw new Error(`B's top card is not A`)
    await touchDragTopCard(b.page, 170, 0)
    const overlay = b.page.locator('[data-testid="match-overlay"]')
    await overlay.waitFor()
    if (!(await overlay.textContent()).includes(meA.nickname)) throw new Error('overlay does not name A')
    await sleep(300)
    await screenshot(b.page, 'match')
    await b.page.getByRole('button', { name: 'See your matches' }).click()
    await b.page.waitForURL(`${base}/matches`)
    await b.page.locator('[data-testid="matches-list"] li', { hasText: meA.nickname }).waitFor()

    await a.page.goto(`${base}/matches`)
    await a.page.locator('[data-testid="matches-list"] li', { hasText: meB.nickname }).waitFor()
    // The detail card opens from the list.
    await a.page.locator('[data-testid="matches-list"] a', { hasText: meB.nickname }).click()
    await a.page.locator('[data-testid="user-detail"]').waitFor()
    await closeUser(a)
    await closeUser(b)
  },

  /** A free user sees the locked teaser; the likers route is never called. */
  async 'likes-locked'() {
    const u = await newUser()
    await login(u, nextPhone())
    await u.page.getByRole('link', { name: 'Likes you' }).click()
    await u.page.locator('[data-testid="likes-locked"]').waitFor()
    const text = await u.page.locator('[data-testid="likes-locked"]').textContent()
    if (!text.includes('黄金会员')) throw new Error('teaser does not name 黄金会员')
    if (u.requests.some((r) => r.includes('/api/v1/likes/received'))) throw new Error('likers were fetched')
    await closeUser(u)
  },

  /** A VIP passes on someone and rewinds: the card comes back; a free user gets the upgrade prompt. */
  async 'vip-rewind'() {
    const v = await newUser()
    const o = await newUser()
    const pv = nextPhone()
    await login(v, pv)
    await login(o, nextPhone())
    await setUp(v, { city: 'E2E反悔', gender: 'male', dating: 'female' })
    await setUp(o, { city: 'E2E反悔', gender: 'female', dating: 'male' })
    const meO = await api(o, 'GET', '/api/v1/users/me')

    // Before VIP: rewind opens the upgrade prompt.
    await v.page.goto(`${base}/`)
    await topCardName(v.page)
    await v.page.getByRole('button', { name: 'Rewind (Backspace)' }).click()
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
      await new Promise((r) => setTimeout(r, 100))
    }
    await v.page.reload()
    if ((await topCardName(v.page)) !== meO.nickname) throw new Error('VIP top card is not the other user')
    await v.page.keyboard.press('ArrowLeft')
    await v.page.locator('[data-testid="deck-empty"]').waitFor()
    await v.page.keyboard.press('Backspace')
    await v.page.locator(`[data-testid="top-card"][data-user-id="${meO.id}"]`).waitFor()
    await v.page.waitForFunction(() => document.querySelector('[data-testid="live"]')?.textContent?.startsWith('Rewound'))
    // The VIP page shows the level and one rewind used.
    await v.page.goto(`${base}/vip`)
    await v.page.locator('[data-testid="vip-status"]', { hasText: '黄金会员' }).waitFor()
    await closeUser(v)
    await closeUser(o)
  },

  /** The profile form shows the server's validation error next to the field. */
  async 'profile-validation'() {
    const u = await newUser()
    await login(u, nextPhone())
    await u.page.goto(`${base}/profile`) // a deep link: served by the SPA fallback
    await u.page.locator('[data-testid="prefs-form"]').waitFor()
    await noHorizontalScroll(u.page)
    await screenshot(u.page, 'profile')
    const today = new Date().toISOString().slice(0, 10)
    await u.page.fill('#birthday', today)
    await u.page.locator('[data-testid="info-form"] button[type="submit"]').click()
    await u.page.locator('[data-testid="info-form"] [role="alert"]').waitFor()
    const invalid = await u.page.getAttribute('#birthday', 'aria-invalid')
    const fieldErr = await u.page.locator('[data-testid="birthday-error"]').count()
    if (invalid !== 'true' || fieldErr !== 1) throw new Error('no field error next to the birthday')
    // Preferences: min distance above max is refused by the server.
    await u.page.locator('#max_distance').fill('10')
    await u.page.locator('#min_distance').fill('40')
    await u.page.locator('[data-testid="prefs-form"] button[type="submit"]').click()
    await u.page.locator('[data-testid="prefs-form"] [role="alert"]').waitFor()
    await closeUser(u)
  },

  /** Deep links, the login redirect, logout, and an axe scan of the main pages. */
  async 'routing-a11y'() {
    const u = await newUser()
    await u.page.goto(`${base}/matches`)
    await u.page.waitForURL(/\/login\?next=(%2F|\/)matches/)
    await noHorizontalScroll(u.page)
    await axe(u.page, 'login')
    // A wrong code is shown clearly.
    const phone = nextPhone()
    await u.page.fill('#phone', phone)
    const run = codeLock.then(async () => {
      const from = logLines.length
      await u.page.click('button[type="submit"]')
      await u.page.waitForSelector('#code')
      return codeFor(phone, from)
    })
    codeLock = run.catch(() => undefined)
    const code = await run
    await u.page.fill('#code', code === '000000' ? '111111' : '000000')
    await u.page.click('button[type="submit"]')
    const msg = await u.page.locator('[role="alert"]').textContent()
    if (!/Wrong verification code/.test(msg)) throw new Error(`wrong-code message: ${msg}`)
    await u.page.fill('#code', code)
    await u.page.click('button[type="submit"]')
    await u.page.waitForURL(`${base}/matches`)
    for (const path of ['/', '/profile', '/vip', '/likes', '/rank']) {
      await u.page.goto(`${base}${path}`)
      await u.page.locator('main h1').first().waitFor()
      await noHorizontalScroll(u.page)
      await axe(u.page, path)
    }
    await u.page.goto(`${base}/profile`)
    await u.page.getByRole('button', { name: 'Log out' }).click()
    await u.page.waitForURL(/\/login/)
    await u.page.goto(`${base}/`)
    await u.page.waitForURL(/\/login/)
    await closeUser(u)
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
