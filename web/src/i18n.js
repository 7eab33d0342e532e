// Translations: bokmål by default, nynorsk and English selectable. Every string
// the UI shows comes from ./i18n/*.js through t().
import nb from './i18n/nb.js'
import nn from './i18n/nn.js'
import en from './i18n/en.js'

export const LANGUAGES = { nb, nn, en }
const LOCALES = { nb: 'nb-NO', nn: 'nn-NO', en: 'en-GB' }
const STORAGE_KEY = 'planrom.lang'

let current = 'nb'
const listeners = new Set()

function stored () {
  try {
    return localStorage.getItem(STORAGE_KEY)
  } catch {
    return null
  }
}

export function initLanguage () {
  const saved = stored()
  current = saved in LANGUAGES ? saved : 'nb'
  document.documentElement.lang = current
}

export function language () {
  return current
}

export function setLanguage (lang) {
  if (!(lang in LANGUAGES) || lang === current) return
  current = lang
  try {
    localStorage.setItem(STORAGE_KEY, lang)
  } catch {}
  document.documentElement.lang = lang
  listeners.forEach((fn) => fn(lang))
}

export function onLanguage (fn) {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

/** t('key', {name: 'Per'}) → the string in the current language, "{name}" filled in. */
export function t (key, params) {
  const table = LANGUAGES[current]
  let text = table[key] ?? nb[key]
  if (text === undefined) return key
  if (params) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m))
  return text
}

export function locale () {
  return LOCALES[current]
}

// Times are shown as they are in Norway, wherever the browser is.
export const TIME_ZONE = 'Europe/Oslo'
const OSLO = TIME_ZONE

export function formatDate (value) {
  if (!value) return t('date.none')
  const dayOnly = value.length === 10
  const date = new Date(dayOnly ? `${value}T12:00:00Z` : value)
  if (Number.isNaN(date.getTime())) return value
  return new Intl.DateTimeFormat(locale(), {
    day: 'numeric', month: 'long', year: 'numeric', timeZone: dayOnly ? 'UTC' : TIME_ZONE
  }).format(date)
}

export function formatDateTime (value) {
  if (!value) return t('date.none')
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) return value
  return new Intl.DateTimeFormat(locale(), {
    day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: TIME_ZONE
  }).format(date)
}

function osloOffset (ms) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
    timeZone: OSLO, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit'
  }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]))
  return Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second) - ms
}

/** A date-and-time field's value ("2026-12-08T10:00") read as Norwegian time, whatever
 * the browser's own time zone is; an invalid Date if it is not one. */
export function osloMoment (value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(value || '')
  if (!m) return new Date(NaN)
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5])
  let at = wall - osloOffset(wall)
  at = wall - osloOffset(at) // again, in case the first guess crossed a change of offset
  return new Date(at)
}
