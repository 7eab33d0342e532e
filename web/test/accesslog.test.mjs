// The owner's access log in words: refusals are counted per person and day, and
// an outsider's day is one line with its count (server.db.denials).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { actionText } from '../src/views/accesslog.js'

test("an outsider's refusals read as one counted line", () => {
  const entry = {
    action: 'denied',
    actor: 'Ola Strand',
    refusals: { day: '2026-12-01', count: 12, listed: 1, outsider: true }
  }
  assert.equal(actionText(entry), '12 avviste forsøk av Ola Strand 1. desember 2026')
})

test("a participant's first refusal says how many were not listed", () => {
  const entry = {
    action: 'denied',
    actor: 'Siw Nilsen',
    refusals: { day: '2026-12-01', count: 60, listed: 25, outsider: false }
  }
  assert.equal(actionText(entry), 'Ble nektet (60 avviste forsøk denne dagen, 35 av dem ikke vist hver for seg)')
  assert.equal(actionText({ ...entry, refusals: { ...entry.refusals, count: 25 } }), 'Ble nektet')
})

test('other entries keep their plain words', () => {
  assert.equal(actionText({ action: 'read-only', actor: 'Siw Nilsen' }), 'Kan nå bare lese')
  assert.equal(actionText({ action: 'denied', actor: 'Siw Nilsen' }), 'Ble nektet')
})
