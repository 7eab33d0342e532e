// Structured decisions in the meeting: one big plain button per kind, then a
// short form with only what that kind needs.
import { h, options, uid } from '../dom.js'
import { t } from '../i18n.js'
import { participantLabel } from './common.js'

export const DECISION_KINDS = ['continue', 'adjust', 'stop', 'new_measure', 'evaluation', 'next_meeting', 'next_evaluation']

export function decisionSummary (d) {
  return h('span', { text: d.summary || t(`decision.kind.${d.kind}`) })
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
      const when = new Date(str('starts_at'))
      if (Number.isNaN(when.getTime())) { error.textContent = t('decision.when.invalid'); return }
      body.starts_at = when.toISOString()
      if (str('place')) body.place = str('place')
    }
    if (kind === 'next_evaluation') body.date = str('date')
    submit.disabled = true
    const ok = await onSubmit(body)
    submit.disabled = false
    if (!ok) error.textContent = t('decision.failed')
  })
  return form
}
