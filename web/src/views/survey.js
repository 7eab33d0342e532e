// The owner's verdict after a meeting (GET/POST /api/plans/{p}/survey): four plain
// questions, one answer each, and whether the coordinator may read the answers.
import { h, uid } from '../dom.js'
import { api, ApiError } from '../api.js'
import { t, formatDate } from '../i18n.js'

export function surveyBody (form, occasion, questions) {
  const answers = {}
  for (const q of questions) {
    const picked = form.querySelector(`input[name="${q}"]:checked`)
    if (picked) answers[q] = picked.value
  }
  return { occasion, answers, share: form.querySelector('input[name="share"]').checked }
}

export async function surveyCard (planId) {
  const data = await api.get(`/api/plans/${planId}/survey`).catch(() => null)
  if (!data) return null
  const box = h('section', { class: 'card survey', 'aria-labelledby': 'survey-title' },
    h('h2', { id: 'survey-title', text: t('survey.title') }))
  if (data.can_answer && data.open.length) {
    const open = data.open[0]
    const status = h('p', { role: 'status', class: 'inline-note' })
    const form = h('form', { class: 'survey-form', novalidate: true },
      h('p', { text: t('survey.intro', { title: open.title, date: formatDate(open.date) }) }),
      data.questions.map((q) => h('fieldset', { class: 'survey-question', dataset: { question: q } },
        h('legend', { text: t(`survey.q.${q}`) }),
        h('div', { class: 'survey-choices' }, data.answers.map((a) => {
          const id = uid(`${q}-${a}`)
          return h('div', { class: 'field checkbox' },
            h('input', { type: 'radio', name: q, id, value: a }),
            h('label', { for: id, text: t(`survey.a.${a}`) }))
        })))),
      h('div', { class: 'field checkbox' },
        h('input', { type: 'checkbox', name: 'share', id: 'survey-share' }),
        h('label', { for: 'survey-share', text: t('survey.share') })),
      h('p', { class: 'button-row' }, h('button', { type: 'submit', class: 'button primary', text: t('survey.send') })),
      status)
    // An answered question's error goes away at once.
    form.addEventListener('change', (event) => {
      event.target.closest('fieldset')?.querySelector('.field-error')?.remove()
    })
    form.addEventListener('submit', async (event) => {
      event.preventDefault()
      form.querySelectorAll('.field-error').forEach((el) => el.remove())
      try {
        await api.post(`/api/plans/${planId}/survey`, surveyBody(form, open.occasion, data.questions))
        form.replaceWith(h('p', { role: 'status', class: 'inline-note', text: t('survey.thanks') }))
      } catch (err) {
        const message = err instanceof ApiError ? err.message : t('error.text')
        const at = form.querySelector(`fieldset[data-question="${err.field}"]`)
        const note = h('p', { class: 'field-error', role: 'alert', text: message })
        if (at) at.append(note)
        else status.replaceChildren(note)
      }
    })
    box.append(form)
  } else if (data.can_answer) {
    box.append(h('p', { text: t('survey.none') }))
  }
  if (data.can_set_relatives) {
    const relatives = h('input', { type: 'checkbox', id: 'survey-relatives', checked: data.relatives })
    const saved = h('span', { role: 'status', class: 'meta' })
    relatives.addEventListener('change', async () => {
      await api.put(`/api/plans/${planId}/survey/relatives`, { relatives: relatives.checked })
      saved.textContent = t('survey.relatives.saved')
    })
    box.append(h('div', { class: 'field checkbox' }, relatives,
      h('label', { for: 'survey-relatives', text: t('survey.relatives') }), saved))
  }
  if (data.shared.length) {
    const latest = data.shared[0]
    box.append(h('h3', { text: t('survey.latest', { date: formatDate(latest.at) }) }),
      h('dl', { class: 'facts' }, data.questions.map((q) => [
        h('dt', { text: t(`survey.q.${q}`) }), h('dd', { text: t(`survey.a.${latest.answers[q]}`) })])))
  }
  return box.children.length > 1 ? box : null
}
