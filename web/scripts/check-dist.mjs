#!/usr/bin/env node
// Rebuild the web client into a temporary directory and compare it, file by
// file, with the committed web/dist. Exits non-zero on any difference, so CI
// catches a dist that was not rebuilt after a source change.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const committed = join(webDir, 'dist')
const tmp = mkdtempSync(join(tmpdir(), 'swiper-dist-'))
const out = join(tmp, 'dist')

function list(root) {
  const acc = []
  const rec = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) rec(p)
      else acc.push(relative(root, p))
    }
  }
  rec(root)
  return acc.sort()
}

let failed = false
try {
  const vite = join(webDir, 'node_modules', 'vite', 'bin', 'vite.js')
  execFileSync(process.execPath, [vite, 'build', '--outDir', out, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: webDir,
    stdio: 'inherit',
  })
  let have = []
  try {
    have = list(committed)
  } catch {
    console.error('check:dist: web/dist is missing; run `npm run build` in web/')
    process.exit(1)
  }
  const want = list(out)
  const haveSet = new Set(have)
  const wantSet = new Set(want)
  for (const f of want) {
    if (!haveSet.has(f)) {
      console.error(`check:dist: missing from web/dist: ${f}`)
      failed = true
    } else if (!readFileSync(join(out, f)).equals(readFileSync(join(committed, f)))) {
      console.error(`check:dist: differs from a fresh build: dist/${f}`)
      failed = true
    }
  }
  for (const f of have) {
    if (!wantSet.has(f)) {
      console.error(`check:dist: stale file in web/dist: ${f}`)
      failed = true
    }
  }
  if (failed) console.error('check:dist: web/dist does not match the sources; run `npm run build` in web/ and commit web/dist')
  else console.log(`check:dist: web/dist matches the sources (${want.length} files)`)
} finally {
  rmSync(tmp, { recursive: true, force: true })
}
process.exit(failed ? 1 : 0)
