// Every UI string exists in bokmål, nynorsk and English, and every key the
// source uses exists.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import nb from '../src/i18n/nb.js'
import nn from '../src/i18n/nn.js'
import en from '../src/i18n/en.js'

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src')

test('nynorsk and English have exactly the bokmål keys', () => {
  const keys = Object.keys(nb).sort()
  assert.deepEqual(Object.keys(nn).sort(), keys)
  assert.deepEqual(Object.keys(en).sort(), keys)
  for (const table of [nb, nn, en]) {
    for (const [key, value] of Object.entries(table)) assert.ok(value.length > 0, key)
  }
})

test('placeholders match across languages', () => {
  const names = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',')
  for (const key of Object.keys(nb)) {
    assert.equal(names(nn[key]), names(nb[key]), `nn ${key}`)
    assert.equal(names(en[key]), names(nb[key]), `en ${key}`)
  }
})

test('every literal key used in the source exists', () => {
  const files = ['main.js', ...readdirSync(join(src, 'views')).map((f) => join('views', f))]
  const missing = []
  for (const file of files) {
    const text = readFileSync(join(src, file), 'utf8')
    for (const m of text.matchAll(/\bt\('([^']+)'/g)) if (!(m[1] in nb)) missing.push(`${file}: ${m[1]}`)
  }
  assert.deepEqual(missing, [])
})
