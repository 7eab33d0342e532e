// The worklist's rows in words: every kind the server sends is worded in each language,
// with its facts filled in and no placeholder left over.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setLanguage } from '../src/i18n.js'
import { rowText } from '../src/views/worklist.js'

globalThis.document ??= { documentElement: {} } // setLanguage sets <html lang>

const KINDS = ['evaluation-overdue', 'evaluation-due', 'measure-overdue', 'meeting-soon', 'minutes-approve',
  'minutes-finalise', 'invitation-pending', 'consent-missing', 'consent-expiring', 'sleeping', 'transition-review']

function row (kind, extra = {}) {
  return { kind, urgency: 2, plan: 'p1', plan_title: 'Pers plan', href: '/plan/p1', title: 'Dagsenter', date: '2027-03-01', who: 'Siw Nilsen', reasons: ['evaluation'], ...extra }
}

test('every kind is worded in nb, nn and en without placeholders', () => {
  const seen = {}
  for (const lang of ['nb', 'nn', 'en']) {
    setLanguage(lang)
    for (const kind of KINDS) {
      const text = rowText(row(kind))
      assert.ok(text && !text.includes('{') && !text.startsWith('worklist.'), `${lang} ${kind}: ${text}`)
      seen[`${lang}:${kind}`] = text
    }
  }
  assert.notEqual(seen['nb:measure-overdue'], seen['en:measure-overdue'])
  setLanguage('nb')
  assert.match(rowText(row('measure-overdue')), /«Dagsenter» skulle vært evaluert .*2027 – ansvarlig: Siw Nilsen/)
  assert.match(rowText(row('measure-overdue', { reasons: ['ended'] })), /skulle vært ferdig/)
  assert.match(rowText(row('measure-overdue', { who: null })), /ansvarlig: en annen tjeneste/)
  assert.equal(rowText(row('sleeping', { date: null })), 'Ingenting er endret i planen ennå')
  assert.match(rowText(row('transition-review', { title: 'leaving-hospital' })), /«Ut fra sykehus»/)
})
