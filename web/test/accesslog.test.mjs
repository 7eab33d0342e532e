// The access log screen's small pure parts: the query for lines and exports
// (filters, paging, the fold toggle, the reader's language), and the small print
// under each grouped line (when in Norwegian time, why access was allowed).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { logQuery, lineMeta, PAGE_SIZE } from '../src/views/accesslog.js'

test('the lines query pages, filters and folds the reader\'s own views by default', () => {
  const q = new URLSearchParams(logQuery({ page: 3, lang: 'nn' }))
  assert.equal(q.get('page'), '3')
  assert.equal(q.get('size'), String(PAGE_SIZE))
  assert.equal(q.get('lang'), 'nn')
  assert.equal(q.get('own'), null)
  const filtered = new URLSearchParams(logQuery({ person: 'abcd1234', from: '2026-12-01', to: '2026-12-02', own: true }))
  assert.deepEqual([...filtered.entries()], [
    ['page', '1'], ['size', String(PAGE_SIZE)], ['person', 'abcd1234'],
    ['from', '2026-12-01'], ['to', '2026-12-02'], ['own', '1'], ['lang', 'nb']
  ])
})

test('an export takes the same filters but no paging', () => {
  const q = new URLSearchParams(logQuery({ person: 'abcd1234', format: 'pdf', page: 4, lang: 'en' }))
  assert.equal(q.get('format'), 'pdf')
  assert.equal(q.get('page'), null)
  assert.equal(q.get('size'), null)
  assert.equal(q.get('person'), 'abcd1234')
  assert.equal(q.get('lang'), 'en')
})

test('the small print says when and why, and a day of refusals', () => {
  const line = {
    when: 'tirsdag 1. desember 2026, kl. 10–11',
    why: 'ifølge samtykke versjon 3: lese'
  }
  assert.equal(lineMeta(line), 'tirsdag 1. desember 2026, kl. 10–11 · ifølge samtykke versjon 3: lese')
  assert.equal(lineMeta({ when: 'x', why: '' }), 'x')
  assert.equal(lineMeta({ when: 'x', why: '', refusals: { text: '12 avviste forsøk den dagen' } }), 'x · 12 avviste forsøk den dagen')
})
