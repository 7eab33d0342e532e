// The start form's request body and a participant's invitation state.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { planBody, inviteState, nationalId, DEFAULT_SECTION_KEYS } from '../src/group-logic.js'

test('a coordinator starts a plan for someone: owner, contact, guardians, period', () => {
  const body = planBody({
    forSelf: false,
    ownerName: '  Kari Nordmann ',
    ownerPhone: '',
    ownerEmail: 'kari@example.org ',
    guardians: [{ name: 'Mor', phone: '', email: 'mor@example.org' }, { name: '  ', email: 'x@y' }],
    myName: 'Maria',
    myOrganisation: 'Bydel Nord',
    title: '',
    defaultTitle: 'Individuell plan for Kari Nordmann',
    periodFrom: '2026-12-01',
    periodTo: '',
    evaluationMonths: '3',
    sections: [...DEFAULT_SECTION_KEYS]
  })
  assert.deepEqual(body, {
    as: 'coordinator',
    title: 'Individuell plan for Kari Nordmann',
    owner_name: 'Kari Nordmann',
    owner: { email: 'kari@example.org' },
    coordinator: { name: 'Maria', organisation: 'Bydel Nord' },
    guardians: [{ name: 'Mor', email: 'mor@example.org' }],
    period_from: '2026-12-01',
    evaluation_months: 3
  })
})

test('an owner for themselves sends no owner fields; fewer sections are listed', () => {
  const body = planBody({
    forSelf: true, ownerName: 'ignored', title: 'Min plan', evaluationMonths: '6', sections: ['om-meg', 'mal', 'nope']
  })
  assert.deepEqual(body, { as: 'owner', title: 'Min plan', evaluation_months: 6, sections: ['om-meg', 'mal'] })
  assert.deepEqual(planBody({ forSelf: true, title: 'x', sections: [] }).sections, [])
})

test('invitation states', () => {
  const now = Date.parse('2026-12-01T12:00:00Z')
  const inv = (status, expires = '2026-12-08T12:00:00Z') => ({ signed_in: false, invitation: { status, expires_at: expires } })
  assert.equal(inviteState({ signed_in: true, invitation: null }, now), 'signed-in')
  assert.equal(inviteState({ signed_in: false, invitation: null }, now), 'none')
  assert.equal(inviteState({ invitation: null }, now), 'none')
  assert.equal(inviteState(inv('open'), now), 'invited')
  assert.equal(inviteState(inv('open', '2026-12-01T11:59:59Z'), now), 'expired')
  assert.equal(inviteState(inv('expired'), now), 'expired')
  assert.equal(inviteState(inv('revoked'), now), 'revoked')
  assert.equal(inviteState(inv('used'), now), 'signed-in')
})

test('national identity numbers: 11 digits, spaces allowed', () => {
  assert.equal(nationalId('010203 12345'), '01020312345')
  assert.equal(nationalId('0102031234'), null)
  assert.equal(nationalId('0102031234x'), null)
  assert.equal(nationalId(undefined), null)
})
