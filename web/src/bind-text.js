// Binds a plain <textarea> or <input> to a Y.Text. Local edits become the
// smallest delete+insert that turns the old value into the new one, so edits
// by others at other places merge; remote edits update the field and keep the
// caret where it was relative to the text around it.

const LOCAL = Symbol('textarea-binding')

/** The single changed span between two strings: {index, remove, insert} or null. */
export function diffStrings (before, after) {
  if (before === after) return null
  let start = 0
  const max = Math.min(before.length, after.length)
  while (start < max && before.charCodeAt(start) === after.charCodeAt(start)) start++
  let endB = before.length
  let endA = after.length
  while (endB > start && endA > start && before.charCodeAt(endB - 1) === after.charCodeAt(endA - 1)) {
    endB--
    endA--
  }
  // Never split a surrogate pair.
  if (start > 0 && isHigh(before.charCodeAt(start - 1))) start--
  if (endB < before.length && isLow(before.charCodeAt(endB))) { endB++; endA++ }
  return { index: start, remove: endB - start, insert: after.slice(start, endA) }
}

function isHigh (c) { return c >= 0xd800 && c <= 0xdbff }
function isLow (c) { return c >= 0xdc00 && c <= 0xdfff }

/** Moves a caret position through a Yjs text delta (made against the old text). */
export function transformPosition (pos, delta) {
  let index = 0
  let out = pos
  for (const op of delta) {
    if (op.retain !== undefined) {
      index += op.retain
    } else if (op.insert !== undefined) {
      const len = typeof op.insert === 'string' ? op.insert.length : 1
      if (index < out) out += len
      index += len
    } else if (op.delete !== undefined) {
      if (index < out) out -= Math.min(op.delete, out - index)
    }
  }
  return out
}

/**
 * @param {HTMLTextAreaElement|HTMLInputElement} el
 * @param {import('yjs').Text} ytext
 * @returns {() => void} unbind
 */
export function bindText (el, ytext) {
  el.value = ytext.toString()
  const onInput = () => {
    if (el.readOnly || el.disabled) return
    const change = diffStrings(ytext.toString(), el.value)
    if (change === null) return
    ytext.doc.transact(() => {
      if (change.remove > 0) ytext.delete(change.index, change.remove)
      if (change.insert.length > 0) ytext.insert(change.index, change.insert)
    }, LOCAL)
  }
  const observer = (event, tr) => {
    if (tr.origin === LOCAL) return
    const next = ytext.toString()
    if (next === el.value) return
    const focused = document.activeElement === el
    const start = el.selectionStart
    const end = el.selectionEnd
    const scroll = el.scrollTop
    el.value = next
    if (focused && start !== null) {
      el.setSelectionRange(transformPosition(start, event.delta), transformPosition(end, event.delta))
    }
    el.scrollTop = scroll
  }
  el.addEventListener('input', onInput)
  ytext.observe(observer)
  return () => {
    el.removeEventListener('input', onInput)
    ytext.unobserve(observer)
  }
}
