// Tiny DOM helpers. Text always goes in through textContent, never innerHTML,
// so nothing from the server or another person can become markup.

/**
 * h('button', {class: 'big', onclick: fn, 'aria-label': '…'}, 'text', childNode)
 * Attribute values of false/null/undefined are skipped; true sets an empty attribute.
 * Keys starting with "on" add event listeners. `text` sets textContent.
 */
export function h (tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value)
    } else if (key === 'text') {
      el.textContent = String(value)
    } else if (key === 'class') {
      el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value
    } else if (key === 'value' && 'value' in el) {
      el.value = value
    } else if (key === 'checked' || key === 'selected' || key === 'disabled' || key === 'readOnly') {
      el[key] = Boolean(value)
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value)
    } else {
      el.setAttribute(key, value === true ? '' : String(value))
    }
  }
  append(el, children)
  return el
}

export function append (el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue
    el.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return el
}

export function clear (el) {
  while (el.firstChild) el.removeChild(el.firstChild)
  return el
}

let counter = 0
/** A unique id for label/aria wiring. */
export function uid (prefix = 'id') {
  counter += 1
  return `${prefix}-${counter}`
}

/** A labelled form field: returns {wrap, input}. */
export function field (label, input, hint) {
  const id = input.id || uid('f')
  input.id = id
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint`, text: hint }) : null
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id)
  const wrap = h('div', { class: 'field' }, h('label', { for: id, text: label }), hintEl, input)
  return { wrap, input }
}

/** Options for a <select>: [[value, label], …]. */
export function options (pairs, selected) {
  return pairs.map(([value, label]) => h('option', { value, selected: value === selected, text: label }))
}
