// The controls of a view follow the access level of the document they edit:
// after every join, and whenever the server changes it while joined
// (doc:access: read-only once a section is archived, the plan closed, the
// meeting ended or approved; writable again when that is undone).

/**
 * Calls apply(writable, change) now, after every join and after every access
 * change. `change` is the provider's 'access' event ({doc, access, reason})
 * when the server changed the level, otherwise null.
 * @param {{access: 'read'|'write'|null, listeners: {on: Function}}} entry an
 *   open document (realtime.js openDoc().entry, or anything shaped like it)
 * @param {(writable: boolean, change: object|null) => void} apply
 * @returns {() => void} stops following
 */
export function followAccess (entry, apply) {
  const update = (change) => apply(entry.access === 'write', change)
  const offs = [
    entry.listeners.on('joined', () => update(null)),
    entry.listeners.on('access', (change) => update(change))
  ]
  update(null)
  return () => offs.forEach((off) => off())
}

/**
 * Makes text fields read-only unless writable (a read-only textarea still
 * shows every remote change; bind-text ignores input while read-only).
 * @param {Array<{readOnly: boolean}>} fields
 * @param {boolean} writable
 */
export function setFieldsWritable (fields, writable) {
  for (const field of fields) field.readOnly = !writable
}
