// One measure (tiltak): the record (responsible, status, how often, dates,
// overdue flags) and its co-edited document (description, progress log).
import * as Y from 'yjs'
import { h, clear, options, uid } from '../dom.js'
import { api } from '../api.js'
import { followAccess, setFieldsWritable } from '../doc-access.js'
import { t, formatDate } from '../i18n.js'
import { bindText } from '../bind-text.js'
import { overdueReasons, flag, today, participantLabel, errorText } from './common.js'

export const MEASURE_STATUSES = ['planned', 'active', 'paused', 'done', 'stopped']

/**
 * @returns {{el: HTMLElement, update: (record) => void, remove: () => void}}
 */
export function measureView (record, { planId, people, scope, app, headingLevel = 3, onRevoked }) {
  let current = record
  const titleId = uid('measure')
  const Heading = `h${headingLevel}`
  const title = h(Heading, { id: titleId, class: 'measure-title', text: record.title })
  const flags = h('p', { class: 'flags' })
  const facts = h('dl', { class: 'facts' })
  const statusWrap = h('div', { class: 'status-control' })
  const note = h('p', { class: 'inline-note', role: 'status' })
  const el = h('article', { class: 'measure', 'aria-labelledby': titleId, dataset: { measure: record.id } },
    title, flags, facts, statusWrap, note)

  function who (id) {
    const p = people.get(id)
    return p ? participantLabel(p) : t('measure.responsible.unknown')
  }

  function renderRecord () {
    const m = current
    title.textContent = m.title
    clear(flags)
    for (const reason of overdueReasons(m)) flags.append(flag(t(`overdue.${reason}`)))
    clear(facts)
    const row = (label, value) => [h('dt', { text: label }), h('dd', { text: value })]
    facts.append(
      ...row(t('measure.responsible'), m.responsible ? who(m.responsible) : (m.responsible_label || t('measure.responsible.none'))),
      ...row(t('measure.frequency'), m.frequency || t('date.none')),
      ...row(t('measure.period'), `${formatDate(m.starts)} – ${m.ends ? formatDate(m.ends) : t('measure.open.end')}`),
      ...row(t('measure.evaluate'), formatDate(m.evaluate_by))
    )
    clear(statusWrap)
    if (m.access === 'write') {
      const select = h('select', { id: uid('status'), class: 'status-select' },
        options(MEASURE_STATUSES.map((s) => [s, t(`measure.status.${s}`)]), m.status))
      select.addEventListener('change', async () => {
        select.disabled = true
        note.textContent = ''
        note.classList.remove('is-error')
        try {
          current = await api.patch(`/api/plans/${planId}/measures/${m.id}`, { status: select.value })
          renderRecord()
          note.textContent = t('measure.status.saved')
          statusWrap.querySelector('select')?.focus()
        } catch (err) {
          note.textContent = errorText(err)
          note.classList.add('is-error') // an error is never shown in the "saved" green
          select.value = current.status
        } finally {
          select.disabled = false
        }
      })
      statusWrap.append(h('label', { for: select.id, text: t('measure.status') }), select)
    } else {
      statusWrap.append(h('p', {}, `${t('measure.status')}: `, h('strong', { class: `status status-${m.status}`, text: t(`measure.status.${m.status}`) })))
    }
  }
  renderRecord()

  // The measure's document.
  const docArea = h('div', { class: 'measure-doc' })
  el.append(docArea)
  if (record.doc) {
    const entry = scope.doc(record.doc)
    const ydoc = entry.ydoc
    const description = h('textarea', { id: uid('desc'), rows: '3', readOnly: true, class: 'text' })
    const unbind = bindText(description, ydoc.getText('description'))
    scope.onDispose(unbind)
    const progressList = h('ol', { class: 'progress-log', 'aria-live': 'polite' })
    const progress = ydoc.getArray('progress')
    const addInput = h('input', { type: 'text', id: uid('prog'), autocomplete: 'off', maxlength: '2000' })
    const addForm = h('form', { class: 'progress-add', hidden: true },
      h('label', { for: addInput.id, text: t('measure.progress.new') }),
      h('div', { class: 'inline' }, addInput, h('button', { type: 'submit', class: 'button', text: t('measure.progress.add') })))
    addForm.addEventListener('submit', (event) => {
      event.preventDefault()
      const text = addInput.value.trim()
      if (!text) return
      const entryMap = new Y.Map()
      entryMap.set('at', today())
      entryMap.set('text', new Y.Text(text))
      progress.push([entryMap])
      addInput.value = ''
      app?.announce(t('measure.progress.added'))
    })
    const renderProgress = () => {
      clear(progressList)
      const entries = progress.toArray()
      if (entries.length === 0) progressList.append(h('li', { class: 'meta', text: t('measure.progress.none') }))
      for (const item of entries) {
        if (!(item instanceof Y.Map)) continue
        const text = item.get('text')
        progressList.append(h('li', {},
          h('span', { class: 'meta', text: formatDate(String(item.get('at') ?? '')) }), ' ',
          h('span', { text: text instanceof Y.Text ? text.toString() : String(text ?? '') })))
      }
    }
    progress.observeDeep(renderProgress)
    scope.onDispose(() => progress.unobserveDeep(renderProgress))
    renderProgress()
    const setAccess = (writable) => {
      setFieldsWritable([description], writable)
      addForm.hidden = !writable
    }
    scope.onDispose(followAccess(entry, setAccess))
    entry.listeners.on('revoked', () => {
      (el.parentElement?.tagName === 'LI' ? el.parentElement : el).remove()
      onRevoked?.()
    })
    docArea.append(
      h('label', { for: description.id, text: t('measure.description') }), description,
      h('h4', { class: 'progress-title', text: t('measure.progress') }), progressList, addForm)
  }

  return {
    el,
    update (next) {
      if (next.status === current.status && next.title === current.title && next.frequency === current.frequency &&
        next.ends === current.ends && next.evaluate_by === current.evaluate_by && next.responsible === current.responsible &&
        next.access === current.access && next.starts === current.starts) return
      const focusedSelect = statusWrap.contains(document.activeElement)
      current = next
      renderRecord()
      if (focusedSelect) statusWrap.querySelector('select')?.focus()
    },
    get record () { return current }
  }
}
