#!/usr/bin/env node
// A small stand-in for the `swiper` binary, used only to develop the e2e
// runner while the Go backend is being built: `SWIPER_BIN=e2e/fake-swiper.mjs
// npm run e2e`. It implements just enough of API.md (in memory, persisted to a
// JSON file next to the database path so `vip grant` works from another
// process). CI runs the e2e against the real binary, never this.
import { createServer } from 'node:http'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomBytes, randomInt } from 'node:crypto'

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist')
const dbFile = (process.env.SWIPER_DATABASE_URL || 'sqlite:///tmp/fake-swiper.db').replace(/^sqlite:\/\//, '') + '.json'
const load = () => (existsSync(dbFile) ? JSON.parse(readFileSync(dbFile, 'utf8')) : { users: [], codes: {}, sessions: {}, swipes: [], matches: [], seq: 0 })
const save = (db) => writeFileSync(dbFile, JSON.stringify(db))
const PERMS = [[], ['vipflag', 'superlike'], ['vipflag', 'superlike', 'rewind'], ['vipflag', 'superlike', 'rewind', 'who_liked_me', 'unlimited_like', 'any_location']]
const NAMES = ['非会员', '青铜会员', '白银会员', '黄金会员']
const e164 = (p) => (/^1[3-9]\d{9}$/.test(p) ? `+86${p}` : /^\+\d{8,15}$/.test(p) ? p : null)

const [cmd, ...args] = process.argv.slice(2)
if (cmd === 'vip') {
  const opt = (n) => args[args.indexOf(n) + 1]
  const db = load()
  const u = db.users.find((x) => x.phone === e164(opt('--phone')))
  if (!u) {
    console.error('unknown phone')
    process.exit(1)
  }
  u.level = Number(opt('--level'))
  save(db)
  console.log('granted')
  process.exit(0)
}
if (cmd !== 'serve') {
  console.error('usage: fake-swiper serve | vip grant --phone P --level L --days D')
  process.exit(2)
}

const age = (b) => {
  const d = new Date(b)
  const n = new Date()
  let a = n.getFullYear() - d.getFullYear()
  if (n < new Date(n.getFullYear(), d.getMonth(), d.getDate())) a--
  return a
}
const vipOf = (u) => ({ level: u.level, name: NAMES[u.level], expires_at: u.level ? new Date(Date.now() + 30 * 864e5).toISOString() : null, permissions: PERMS[u.level], quotas: { likes_left_today: u.level === 3 ? null : 100, rewinds_left_today: u.level >= 2 ? 3 - (u.rewinds || 0) : 0 } })
const meOf = (u) => ({ id: u.id, phone: u.phone, nickname: u.nickname, gender: u.gender, birthday: u.birthday, age: age(u.birthday), city: u.city, has_location: false, avatar: u.avatar, photos: u.photos, vip: vipOf(u), created_at: u.created_at })
const matched = (db, a, b) => db.matches.some((m) => (m.a === a && m.b === b) || (m.a === b && m.b === a))
const cardOf = (db, u, viewer) => ({ id: u.id, nickname: u.nickname, gender: u.gender, age: age(u.birthday), city: u.city, avatar: u.avatar, superliked_me: db.swipes.some((s) => s.from === u.id && s.to === viewer && s.action === 'superlike'), photos: !u.profile.only_matched || matched(db, u.id, viewer) ? u.photos : [] })

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers })
  res.end(JSON.stringify(body))
}
const okr = (res, data) => send(res, 200, { code: 0, data })
const err = (res, status, code, data, extra = {}, headers = {}) => send(res, status, { code, data, ...extra }, headers)

createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x')
  const p = url.pathname
  if (p === '/healthz') return send(res, 200, { ok: true })
  if (!p.startsWith('/api/')) {
    let f = normalize(join(dist, p))
    if (!f.startsWith(dist) || !existsSync(f) || p === '/') f = join(dist, 'index.html')
    try {
      const data = readFileSync(f)
      const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' }
      res.writeHead(200, { 'Content-Type': types[extname(f)] || 'application/octet-stream' })
      return res.end(data)
    } catch {
      res.writeHead(200, { 'Content-Type': 'text/html' })
      return res.end(readFileSync(join(dist, 'index.html')))
    }
  }
  let raw = ''
  for await (const c of req) raw += c
  let body = {}
  try {
    body = raw ? JSON.parse(raw) : {}
  } catch {
    return err(res, 400, 1001, 'invalid JSON')
  }
  const db = load()
  const token = /swiper_session=([^;]+)/.exec(req.headers.cookie || '')?.[1]
  const me = token && db.sessions[token] ? db.users.find((u) => u.id === db.sessions[token]) : null
  const route = `${req.method} ${p}`
  const done = (fn) => {
    const r = fn()
    save(db)
    return r
  }

  if (route === 'POST /api/v1/verification-codes') {
    const phone = e164(body.phone || '')
    if (!body.phone) return err(res, 400, 1000, 'phone required', { errors: { phone: 'required' } })
    if (!phone) return err(res, 400, 1002, 'invalid phone')
    const c = db.codes[phone]
    if (c && Date.now() - c.sent < 60_000) return err(res, 429, 1006, 'too often', {}, { 'Retry-After': String(Math.ceil((60_000 - (Date.now() - c.sent)) / 1000)) })
    const code = String(randomInt(0, 1e6)).padStart(6, '0')
    db.codes[phone] = { code, sent: Date.now() }
    save(db)
    console.error(`time=${new Date().toISOString()} level=INFO msg="sms (console provider): verification code" phone=${phone.slice(0, 6)}******${phone.slice(-2)} code=${code}`)
    return okr(res, { expires_in: 300, resend_after: 60 })
  }
  if (route === 'POST /api/v1/sessions') {
    const phone = e164(body.phone || '')
    if (!phone) return err(res, 400, 1002, 'invalid phone')
    const c = db.codes[phone]
    if (!c) return err(res, 400, 1005, 'no code')
    if (c.code !== body.code) return err(res, 400, 1004, 'wrong code')
    delete db.codes[phone]
    let u = db.users.find((x) => x.phone === phone)
    const created = !u
    if (!u) {
      u = { id: ++db.seq, phone, nickname: `用户${phone.slice(-4)}`, gender: 'male', birthday: '1990-01-01', city: '北京', avatar: '', photos: [], level: 0, created_at: new Date().toISOString(), profile: { dating_gender: 'female', dating_city: '北京', min_distance: 0, max_distance: 50, min_dating_age: 18, max_dating_age: 50, vibration: true, only_matched: true, auto_play: true } }
      db.users.push(u)
    }
    const t = randomBytes(16).toString('hex')
    db.sessions[t] = u.id
    save(db)
    return send(res, 200, { code: 0, data: { token: t, expires_at: '', created, user: meOf(u) } }, { 'Set-Cookie': `swiper_session=${t}; Path=/; HttpOnly; SameSite=Lax` })
  }
  if (route === 'GET /api/v1/vip/plans') return okr(res, NAMES.map((name, level) => ({ level, name, permissions: PERMS[level] })))
  if (!me) return err(res, 401, 1010, 'not logged in')

  if (route === 'DELETE /api/v1/sessions/current') return done(() => (delete db.sessions[token], send(res, 200, { code: 0, data: null }, { 'Set-Cookie': 'swiper_session=; Path=/; Max-Age=0' })))
  if (route === 'GET /api/v1/users/me') return okr(res, meOf(me))
  if (route === 'PATCH /api/v1/users/me') {
    if (body.birthday !== undefined && age(body.birthday) < 18) return err(res, 400, 1001, 'invalid user', { errors: { birthday: 'you must be at least 18' } })
    if (body.nickname !== undefined && (body.nickname.length < 1 || body.nickname.length > 32)) return err(res, 400, 1001, 'invalid user', { errors: { nickname: 'must be 1-32 characters' } })
    return done(() => {
      for (const k of ['nickname', 'gender', 'birthday']) if (body[k] !== undefined) me[k] = body[k]
      if (body.city !== undefined && body.city !== me.city) {
        me.city = body.city
        if (me.level < 3) me.profile.dating_city = body.city
      }
      return okr(res, meOf(me))
    })
  }
  if (route === 'GET /api/v1/users/me/profile') return okr(res, me.profile)
  if (route === 'PATCH /api/v1/users/me/profile') {
    const m = { ...me.profile, ...body }
    if (m.min_distance > m.max_distance) return err(res, 400, 1001, 'invalid profile', { errors: { max_distance: 'must be >= min_distance' } })
    if (m.min_dating_age > m.max_dating_age) return err(res, 400, 1001, 'invalid profile', { errors: { max_dating_age: 'must be >= min_dating_age' } })
    if (m.dating_city !== me.city && me.level < 3) return err(res, 403, 3001, 'any_location')
    return done(() => ((me.profile = m), okr(res, m)))
  }
  const um = /^\/api\/v1\/users\/(\d+)$/.exec(p)
  if (req.method === 'GET' && um) {
    const u = db.users.find((x) => x.id === Number(um[1]))
    return u ? okr(res, cardOf(db, u, me.id)) : err(res, 404, 1003, 'user not found')
  }
  if (route === 'GET /api/v1/recommendations') {
    const fits = (a, b) => a.profile.dating_gender === 'any' || a.profile.dating_gender === b.gender
    const list = db.users.filter((u) => u.id !== me.id && !db.swipes.some((s) => s.from === me.id && s.to === u.id) && !matched(db, me.id, u.id) && fits(me, u) && fits(u, me) && u.city === me.profile.dating_city)
    return okr(res, list.slice(0, Number(url.searchParams.get('limit') || 20)).map((u) => cardOf(db, u, me.id)))
  }
  if (route === 'POST /api/v1/swipes') {
    const to = db.users.find((u) => u.id === body.user_id)
    if (!to) return err(res, 404, 1003, 'user not found')
    if (body.action === 'superlike' && me.level < 1) return err(res, 403, 3001, 'superlike')
    if (db.swipes.some((s) => s.from === me.id && s.to === to.id)) return err(res, 409, 2002, 'already swiped')
    return done(() => {
      db.swipes.push({ from: me.id, to: to.id, action: body.action, at: Date.now() })
      let match = null
      if (body.action !== 'dislike' && db.swipes.some((s) => s.from === to.id && s.to === me.id && s.action !== 'dislike')) {
        const at = new Date().toISOString()
        db.matches.push({ a: me.id, b: to.id, at })
        match = { user: cardOf(db, to, me.id), matched_at: at }
      }
      return okr(res, { matched: !!match, match })
    })
  }
  if (route === 'DELETE /api/v1/swipes/latest') {
    if (me.level < 2) return err(res, 403, 3001, 'rewind')
    const mine = db.swipes.filter((s) => s.from === me.id)
    const last = mine[mine.length - 1]
    if (!last) return err(res, 404, 2004, 'nothing to rewind')
    return done(() => {
      db.swipes.splice(db.swipes.indexOf(last), 1)
      db.matches = db.matches.filter((m) => !((m.a === me.id && m.b === last.to) || (m.a === last.to && m.b === me.id)))
      me.rewinds = (me.rewinds || 0) + 1
      return okr(res, { user: cardOf(db, db.users.find((u) => u.id === last.to), me.id), action: last.action })
    })
  }
  if (route === 'GET /api/v1/likes/received') {
    if (me.level < 3) return err(res, 403, 3001, 'who_liked_me')
    const users = db.swipes.filter((s) => s.to === me.id && s.action !== 'dislike' && !db.swipes.some((x) => x.from === me.id && x.to === s.from)).map((s) => cardOf(db, db.users.find((u) => u.id === s.from), me.id))
    return okr(res, { total: users.length, users })
  }
  if (route === 'GET /api/v1/matches') {
    const ms = db.matches.filter((m) => m.a === me.id || m.b === me.id).reverse()
    return okr(res, { total: ms.length, matches: ms.map((m) => ({ user: cardOf(db, db.users.find((u) => u.id === (m.a === me.id ? m.b : m.a)), me.id), matched_at: m.at })) })
  }
  const mm = /^\/api\/v1\/matches\/(\d+)$/.exec(p)
  if (req.method === 'DELETE' && mm) {
    const other = Number(mm[1])
    if (!matched(db, me.id, other)) return err(res, 404, 2007, 'not matched')
    return done(() => ((db.matches = db.matches.filter((m) => !((m.a === me.id && m.b === other) || (m.b === me.id && m.a === other)))), okr(res, null)))
  }
  if (route === 'GET /api/v1/rank') {
    const score = {}
    for (const s of db.swipes) score[s.to] = (score[s.to] || 0) + (s.action === 'like' ? 5 : s.action === 'superlike' ? 7 : -5)
    const rows = Object.entries(score).sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([id, sc], i) => ({ rank: i + 1, score: sc, user: cardOf(db, db.users.find((u) => u.id === Number(id)), me.id) }))
    return okr(res, rows)
  }
  if (route === 'GET /api/v1/vip') return okr(res, vipOf(me))
  return err(res, 404, 4000, 'no such route')
}).listen(Number(process.env.SWIPER_ADDR.split(':')[1]), process.env.SWIPER_ADDR.split(':')[0])
