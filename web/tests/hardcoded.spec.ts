// Fails when a component shows a hard-coded user-visible string: every text
// node, user-facing attribute and announced message must go through i18n.
import { describe, expect, it } from 'vitest'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { parse } from 'vue/compiler-sfc'
import { NodeTypes, type RootNode, type TemplateChildNode } from '@vue/compiler-dom'

const SRC = join(__dirname, '..', 'src')
/** Letters of any script: Latin, CJK and the rest. Digits and symbols alone are fine. */
const WORDS = /\p{L}/u
const VISIBLE_ATTRS = new Set(['alt', 'title', 'placeholder', 'label', 'aria-label', 'aria-valuetext', 'aria-description', 'value'])
/** Attributes that are user-visible only on some elements (a checkbox value is not shown). */
const VALUE_ON = new Set(['button', 'option'])

function files(dir: string, ext: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...files(p, ext))
    else if (p.endsWith(ext)) out.push(p)
  }
  return out
}

/** Hard-coded strings in a template: text nodes and user-facing static attributes. */
export function templateFindings(source: string): string[] {
  const { descriptor } = parse(source)
  const ast = descriptor.template?.ast as RootNode | undefined
  if (!ast) return []
  const found: string[] = []
  const walk = (nodes: TemplateChildNode[], tag = '') => {
    for (const n of nodes) {
      if (n.type === NodeTypes.TEXT) {
        if (WORDS.test(n.content)) found.push(`text "${n.content.trim()}" in <${tag}>`)
      } else if (n.type === NodeTypes.ELEMENT) {
        for (const p of n.props) {
          if (p.type !== NodeTypes.ATTRIBUTE || !p.value) continue
          if (!VISIBLE_ATTRS.has(p.name) || (p.name === 'value' && !VALUE_ON.has(n.tag))) continue
          if (WORDS.test(p.value.content)) found.push(`${p.name}="${p.value.content}" on <${n.tag}>`)
        }
        walk(n.children, n.tag)
      } else if (n.type === NodeTypes.IF) {
        for (const b of n.branches) walk(b.children, tag)
      } else if (n.type === NodeTypes.FOR) {
        walk(n.children, tag)
      }
    }
  }
  walk(ast.children)
  return found
}

/** Hard-coded strings handed to the user from script code. */
const SINKS = [
  // ui.announce('…'), ui.notify('…'), alert('…')
  /\b(?:announce|notify|alert|confirm)\(\s*(['"`])((?:(?!\1).)*\p{L}(?:(?!\1).)*)\1/gu,
  // error.value = '…', message.value = '…', note.value = '…'
  /\b\w*(?:[eE]rror|[mM]essage|[nN]ote|[tT]ext|[lL]abel|[tT]itle|[sS]tatus)\.value\s*=\s*(['"`])((?:(?!\1).)*\p{L}(?:(?!\1).)*)\1/gu,
  // document.title = '…'
  /document\.title\s*=\s*(['"`])((?:(?!\1).)*\p{L}(?:(?!\1).)*)\1/gu,
]

export function scriptFindings(code: string): string[] {
  const found: string[] = []
  for (const re of SINKS) {
    for (const m of code.matchAll(re)) {
      // `${t(...)}` templates are translated.
      if (m[1] === '`' && /\$\{\s*t\(/.test(m[2]) && !/\p{L}/u.test(m[2].replace(/\$\{[^}]*\}/g, ''))) continue
      found.push(m[0])
    }
  }
  return found
}

describe('no hard-coded user-visible strings', () => {
  it('detects them (the check itself can fail)', () => {
    expect(templateFindings('<template><p>Hello</p></template>')).toHaveLength(1)
    expect(templateFindings('<template><p>你好</p></template>')).toHaveLength(1)
    expect(templateFindings('<template><img alt="A photo" /></template>')).toHaveLength(1)
    expect(templateFindings('<template><button aria-label="Close">x</button></template>')).toHaveLength(2)
    expect(templateFindings('<template><div v-if="a"><span>Yes</span></div><i v-for="x in y">No</i></template>')).toHaveLength(2)
    expect(templateFindings('<template><p>{{ t(\'a.b\') }} · 42</p><input type="checkbox" value="on" /></template>')).toEqual([])
    expect(scriptFindings("ui.announce('Saved')")).toHaveLength(1)
    expect(scriptFindings("error.value = 'Enter your phone.'")).toHaveLength(1)
    expect(scriptFindings("ui.notify(t('profile.saved'))")).toEqual([])
    expect(scriptFindings("error.value = ''")).toEqual([])
  })

  const vue = files(SRC, '.vue')
  it.each(vue.map((f) => [relative(SRC, f), f]))('%s', (_name, file) => {
    const source = readFileSync(file, 'utf8')
    const { descriptor } = parse(source)
    const script = (descriptor.scriptSetup?.content ?? '') + (descriptor.script?.content ?? '')
    expect([...templateFindings(source), ...scriptFindings(script)]).toEqual([])
  })

  const ts = files(SRC, '.ts').filter((f) => !f.includes(`${join('src', 'i18n')}`))
  it.each(ts.map((f) => [relative(SRC, f), f]))('%s', (_name, file) => {
    expect(scriptFindings(readFileSync(file, 'utf8'))).toEqual([])
  })
})
