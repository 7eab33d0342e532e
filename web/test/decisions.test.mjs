// A decision on screen is written from its data in the page's language: Norwegian
// time and dates in words, the label not repeated, the evaluation's outcome kept.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decisionText } from '../src/views/decisions.js'
import { setLanguage, osloMoment, t } from '../src/i18n.js'

globalThis.document ??= { documentElement: {} } // setLanguage sets <html lang>

const people = new Map([['mari0001', { id: 'mari0001', name: 'Maria Olsen' }]])
const measures = [{ id: 'buss0001', title: 'Følge Per til bussen' }]
// 09:00 UTC on 8 December is 10:00 in Oslo.
const next = { kind: 'next_meeting', data: { starts_at: '2026-12-08T09:00:00Z', place: 'Stua' } }
const fresh = { kind: 'new_measure', data: { title: 'Handle mat', responsible: 'mari0001', starts: '2027-01-04' } }
const evaluation = { kind: 'evaluation', measure: 'buss0001', data: { works: 'Bussen', outcome: 'adjust' } }

for (const [lang, at, outcome, label] of [
  ['nb', 'kl. 10:00', 'Justerer', 'Nytt tiltak'],
  ['nn', 'kl. 10:00', 'Justerer', 'Nytt tiltak'],
  ['en', '10:00', 'Adjust', 'New measure']
]) {
  test(`decisions in ${lang}`, () => {
    setLanguage(lang)
    const when = decisionText(next, { people, measures })
    assert.ok(when.includes(at), when)
    assert.ok(when.includes('2026') && !/\d{4}-\d{2}-\d{2}/.test(when), when)
    const made = decisionText(fresh, { people, measures })
    assert.ok(made.includes('Maria Olsen') && !made.includes(label), made)
    assert.ok(!/\d{4}-\d{2}-\d{2}/.test(made), made)
    const evaluated = decisionText(evaluation, { people, measures })
    assert.ok(evaluated.includes(outcome) && evaluated.includes('Følge Per til bussen'), evaluated)
  })
}
setLanguage('nb')

test('a time typed into a form is Norwegian time, summer or winter', () => {
  assert.equal(osloMoment('2026-12-08T10:00').toISOString(), '2026-12-08T09:00:00.000Z')
  assert.equal(osloMoment('2027-06-08T10:00').toISOString(), '2027-06-08T08:00:00.000Z')
  assert.ok(Number.isNaN(osloMoment('i morgen').getTime()))
})

test('a responsible person the reader may not know of comes as null and reads "someone"', () => {
  setLanguage('nb')
  const someone = t('meeting.someone')
  const made = decisionText({ kind: 'new_measure', data: { title: 'Samtaler', responsible: null } }, { people, measures })
  assert.ok(made.includes(someone) && !made.includes('null'), made)
  const adjusted = decisionText({ kind: 'adjust', measure: 'buss0001', data: { changes: { responsible: null } } }, { people, measures })
  assert.ok(adjusted.includes(someone) && !adjusted.includes('null'), adjusted)
  const untouched = decisionText({ kind: 'adjust', measure: 'buss0001', data: { changes: { title: 'Ny' } } }, { people, measures })
  assert.ok(!untouched.includes(someone), untouched)
})
