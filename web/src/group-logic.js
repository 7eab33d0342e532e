// Pure logic of the "start a plan" and group screens (tested with node --test): the
// request body a start form makes, and where a participant's sign-in stands.

/** The default sections a new plan may start with (collab/model.py DEFAULT_SECTIONS). */
export const DEFAULT_SECTION_KEYS = [
  'om-meg', 'mal', 'bolig', 'arbeid', 'okonomi', 'fysisk-helse', 'psykisk-helse', 'rus',
  'sosial-fungering', 'sosialt-nettverk', 'kriseplan', 'koordinering'
]

const trim = (v) => (typeof v === 'string' ? v.trim() : '')

function contact (fields, keys) {
  const out = {}
  for (const key of keys) {
    const value = trim(fields[key])
    if (value) out[key] = value
  }
  return out
}

/**
 * The body of POST /api/plans from the start form's values:
 * { forSelf, ownerName, ownerPhone, ownerEmail, guardians: [{name, phone, email}],
 *   myOrganisation, myPhone, myEmail, title, defaultTitle, periodFrom, periodTo,
 *   evaluationMonths, sections: [key] }.
 * Empty fields are left out; guardian rows without a name are dropped.
 */
export function planBody (v) {
  const body = { as: v.forSelf ? 'owner' : 'coordinator' }
  body.title = trim(v.title) || trim(v.defaultTitle)
  if (!v.forSelf) {
    body.owner_name = trim(v.ownerName)
    const owner = contact({ phone: v.ownerPhone, email: v.ownerEmail }, ['phone', 'email'])
    if (Object.keys(owner).length) body.owner = owner
    const me = contact({ organisation: v.myOrganisation, phone: v.myPhone, email: v.myEmail }, ['organisation', 'phone', 'email'])
    if (Object.keys(me).length) body.coordinator = { name: trim(v.myName), ...me }
  }
  const guardians = (v.guardians ?? [])
    .filter((g) => trim(g.name))
    .map((g) => ({ name: trim(g.name), ...contact(g, ['phone', 'email']) }))
  if (guardians.length) body.guardians = guardians
  if (v.periodFrom) body.period_from = v.periodFrom
  if (v.periodTo) body.period_to = v.periodTo
  const months = Number(v.evaluationMonths)
  if (Number.isInteger(months) && months > 0) body.evaluation_months = months
  const sections = (v.sections ?? []).filter((k) => DEFAULT_SECTION_KEYS.includes(k))
  if (sections.length !== DEFAULT_SECTION_KEYS.length) body.sections = sections
  return body
}

/**
 * Where a participant of the group stands (GET /api/plans/{p}/group):
 * 'signed-in' (accepted), 'invited' (a link waits), 'expired', 'revoked', or 'none'.
 * `now` is a time in milliseconds.
 */
export function inviteState (p, now = Date.now()) {
  if (p.signed_in) return 'signed-in'
  const inv = p.invitation
  if (!inv) return 'none'
  if (inv.status === 'revoked') return 'revoked'
  if (inv.status === 'used') return 'signed-in'
  if (inv.status === 'expired' || Date.parse(inv.expires_at) <= now) return 'expired'
  return 'invited'
}

/** A national identity number as typed (spaces allowed) → 11 digits, or null. */
export function nationalId (typed) {
  const digits = String(typed ?? '').replace(/[\s.-]/g, '')
  return /^[0-9]{11}$/.test(digits) ? digits : null
}
