// Structured decisions in the meeting: one big plain button per kind, then a
// short form with only what that kind needs.
import { h, options, uid } from '../dom.js'
import { t, formatDate, formatDateTime, osloMoment } from '../i18n.js'
import { participantLabel, showError, clearFieldErrors } from './common.js'

export const DECISION_KINDS = ['continue', 'adjust', 'stop', 'new_measure', 'evaluation', 'next_meeting', 'next_evaluation']

// The decision in plain words, written from its data in the page's language (dates and
// times in Norwegian time); the kind's label is shown beside it, so it is not repeated.
export function decisionText (d, { people = new Map(), measures = [] } = {}) {
  const data = d.data || {}
  const measure = measures.find((m) => m.id === d.measure)
  const title = t('decision.text.quote', { text: measure?.title ?? data.title ?? '' })
  const name = (id) => people.get(id)?.name ?? t('meeting.someone')
  const parts = []
  if (d.kind === 'continue') parts.push(t('decision.text.continue', { title }))
  else if (d.kind === 'stop') {
    parts.push(t('decision.text.stop', { title }))
    if (data.reason) parts.push(t('decision.text.reason', { text: data.reason }))
  } else if (d.kind === 'adjust') {
    const c = data.changes || {}
    const changes = []
    if (c.title) changes.push(t('decision.text.change.title', { value: t('decision.text.quote', { text: c.title }) }))
    if (c.frequency) changes.push(t('decision.text.change.frequency', { value: c.frequency }))
    // A responsible person the reader may not know of comes as null: "someone".
    if ('responsible' in c) changes.push(t('decision.text.change.responsible', { value: name(c.responsible) }))
    if (c.starts) changes.push(t('decision.text.change.starts', { value: formatDate(c.starts) }))
    if ('ends' in c) changes.push(c.ends ? t('decision.text.change.ends', { value: formatDate(c.ends) }) : t('decision.text.change.noend'))
    if (c.evaluate_by) changes.push(t('decision.text.change.evaluate', { value: formatDate(c.evaluate_by) }))
    parts.push(changes.length ? t('decision.text.adjust', { title, changes: changes.join(', ') }) : t('decision.text.adjust.plain', { title }))
  } else if (d.kind === 'new_measure') {
    parts.push(`${title}.`)
    if ('responsible' in data) parts.push(t('decision.text.new.who', { who: name(data.responsible) }))
    if (data.starts) parts.push(t('decision.text.new.from', { date: formatDate(data.starts) }))
  } else if (d.kind === 'evaluation') {
    if (measure || data.title) parts.push(`${title}.`)
    if (data.works) parts.push(t('decision.text.works', { text: data.works }))
    if (data.does_not_work) parts.push(t('decision.text.fails', { text: data.does_not_work }))
    if (data.does_not_work && data.why) parts.push(t('decision.text.why', { text: data.why }))
    if (data.outcome) parts.push(t('decision.text.outcome', { text: t(`decision.outcome.${data.outcome}`) }))
  } else if (d.kind === 'next_meeting') {
    parts.push(formatDateTime(data.starts_at) + (data.place ? `, ${data.place}` : '') + '.')
  } else if (d.kind === 'next_evaluation') {
    parts.push(t('decision.text.next.evaluation', { date: formatDate(data.date) }))
  }
  if (data.note) parts.push(t('decision.text.note', { text: data.note }))
  return parts.join(' ')
}

export function decisionSummary (d, context) {
  return h('span', { text: decisionText(d, context) || t(`decision.kind.${d.kind}`) })
}

function input (label, attrs, hint) {
  const el = attrs.tag === 'textarea'
    ? h('textarea', { id: uid('d'), rows: '3', ...attrs, tag: null })
    : attrs.tag === 'select'
      ? h('select', { id: uid('d'), name: attrs.name }, attrs.choices)
      : h('input', { id: uid('d'), ...attrs, tag: null })
  const hintEl = hint ? h('p', { class: 'hint', id: `${el.id}-hint`, text: hint }) : null
  if (hintEl) el.setAttribute('aria-describedby', hintEl.id)
  return h('div', { class: 'field' }, h('label', { for: el.id, text: label }), hintEl, el)
}

export function decisionForm (kind, { item, plan, people, measures, onCancel, onSubmit }) {
  const measureChoices = options(measures.map((m) => [m.id, m.title]))
  const peopleChoices = options([...people.values()].map((p) => [p.id, participantLabel(p)]))
  const sectionChoices = options(plan.sections.filter((s) => s.doc).map((s) => [s.id, s.title]), item.section)
  const fields = []
  const needsMeasure = kind === 'continue' || kind === 'adjust' || kind === 'stop'
  if (needsMeasure || kind === 'evaluation') {
    if (measures.length === 0 && needsMeasure) {
      fields.push(h('p', { class: 'notice', text: t('decision.no.measure') }))
    } else if (measures.length) {
      const choices = kind === 'evaluation' ? [h('option', { value: '', text: t('decision.evaluation.whole') }), ...measureChoices] : measureChoices
      fields.push(input(t('decision.measure'), { tag: 'select', name: 'measure', choices }))
    }
  }
  if (kind === 'adjust') {
    fields.push(input(t('measure.frequency'), { name: 'frequency', type: 'text', maxlength: '300' }))
    fields.push(input(t('decision.ends'), { name: 'ends', type: 'date' }))
    fields.push(input(t('measure.evaluate'), { name: 'evaluate_by', type: 'date' }))
    fields.push(input(t('decision.responsible.new'), { tag: 'select', name: 'responsible', choices: [h('option', { value: '', text: t('decision.unchanged') }), ...peopleChoices] }))
    fields.push(input(t('decision.note'), { tag: 'textarea', name: 'note', maxlength: '2000' }))
  }
  if (kind === 'stop') fields.push(input(t('decision.reason'), { tag: 'textarea', name: 'reason', maxlength: '2000' }))
  if (kind === 'new_measure') {
    fields.push(input(t('decision.title'), { name: 'title', type: 'text', required: true, maxlength: '300' }))
    fields.push(input(t('decision.section'), { tag: 'select', name: 'section', choices: sectionChoices }))
    fields.push(input(t('measure.responsible'), { tag: 'select', name: 'responsible', choices: peopleChoices }))
    fields.push(input(t('measure.frequency'), { name: 'frequency', type: 'text', maxlength: '300' }))
    fields.push(input(t('decision.starts'), { name: 'starts', type: 'date' }))
    fields.push(input(t('measure.evaluate'), { name: 'evaluate_by', type: 'date' }))
    fields.push(input(t('measure.description'), { tag: 'textarea', name: 'description', maxlength: '5000' }))
  }
  if (kind === 'evaluation') {
    fields.push(input(t('decision.works'), { tag: 'textarea', name: 'works', maxlength: '2000' }, t('decision.works.hint')))
    fields.push(input(t('decision.fails'), { tag: 'textarea', name: 'does_not_work', maxlength: '2000' }))
    fields.push(input(t('decision.why'), { tag: 'textarea', name: 'why', maxlength: '2000' }))
    fields.push(input(t('decision.outcome'), {
      tag: 'select',
      name: 'outcome',
      choices: options(['continue', 'adjust', 'stop', 'new'].map((o) => [o, t(`decision.outcome.${o}`)]))
    }))
  }
  if (kind === 'next_meeting') {
    fields.push(input(t('decision.when'), { name: 'starts_at', type: 'datetime-local', required: true }))
    fields.push(input(t('meeting.place'), { name: 'place', type: 'text', maxlength: '300' }))
  }
  if (kind === 'next_evaluation') {
    fields.push(input(t('decision.date'), { name: 'date', type: 'date', required: true }))
  }
  const error = h('p', { class: 'form-error', role: 'alert' })
  const submit = h('button', { type: 'submit', class: 'button big primary', text: t('decision.save') })
  const cancel = h('button', { type: 'button', class: 'button big', text: t('action.cancel'), onclick: onCancel })
  const headingId = uid('dform')
  const form = h('form', { class: 'decision-form', 'aria-labelledby': headingId },
    h('h4', { id: headingId, text: t(`decision.kind.${kind}`) }), fields, error,
    h('div', { class: 'button-row' }, submit, cancel))
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    error.textContent = ''
    const data = Object.fromEntries(new FormData(form).entries())
    const body = {}
    const str = (k) => (typeof data[k] === 'string' ? data[k].trim() : '')
    if (needsMeasure || kind === 'evaluation') {
      if (str('measure')) body.measure = str('measure')
      else if (needsMeasure) { error.textContent = t('decision.no.measure'); return }
    }
    if (kind === 'adjust') {
      const changes = {}
      for (const k of ['frequency', 'ends', 'evaluate_by', 'responsible']) if (str(k)) changes[k] = str(k)
      if (Object.keys(changes).length === 0) { error.textContent = t('decision.adjust.empty'); return }
      body.changes = changes
      if (str('note')) body.note = str('note')
    }
    if (kind === 'stop' && str('reason')) body.reason = str('reason')
    if (kind === 'new_measure') {
      for (const k of ['title', 'section', 'responsible', 'frequency', 'starts', 'evaluate_by', 'description']) if (str(k)) body[k] = str(k)
    }
    if (kind === 'evaluation') {
      body.target = body.measure ? 'measure' : 'goal'
      if (!body.measure) delete body.target
      for (const k of ['works', 'does_not_work', 'why', 'outcome']) if (str(k)) body[k] = str(k)
    }
    if (kind === 'next_meeting') {
      const when = osloMoment(str('starts_at'))
      if (Number.isNaN(when.getTime())) { error.textContent = t('decision.when.invalid'); return }
      body.starts_at = when.toISOString()
      if (str('place')) body.place = str('place')
    }
    if (kind === 'next_evaluation') body.date = str('date')
    submit.disabled = true
    clearFieldErrors(form)
    const result = await onSubmit(body)
    submit.disabled = false
    if (result !== true) showError(form, result, error)
  })
  return form
}
