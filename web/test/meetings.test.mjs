// A scheduled meeting whose time has passed reads "was not held", not "not started".
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { statusOf } from '../src/views/meetings.js'

test('a past scheduled meeting is shown as not held; others keep their status', () => {
  const now = Date.parse('2026-12-01T12:00:00Z')
  assert.equal(statusOf({ status: 'scheduled', starts_at: '2026-11-30T09:00:00Z', ends_at: '2026-11-30T10:00:00Z' }, now), 'unheld')
  assert.equal(statusOf({ status: 'scheduled', starts_at: '2026-12-01T11:30:00Z', ends_at: '2026-12-01T12:30:00Z' }, now), 'scheduled')
  assert.equal(statusOf({ status: 'final', starts_at: '2026-11-30T09:00:00Z', ends_at: '2026-11-30T10:00:00Z' }, now), 'final')
  assert.equal(statusOf({ status: 'scheduled', starts_at: '2026-12-02T09:00:00Z' }, now), 'scheduled')
})
