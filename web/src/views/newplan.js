// Start a plan (from "Mine planer"): whom it is for and how to reach them, guardians,
// the plan period, how often it is evaluated and which parts it starts with. Then the
// group screen, where the consent step comes first (nothing is shared before it).
import { h, uid, options } from '../dom.js'
import { api } from '../api.js'
import { t } from '../i18n.js'
import { showError, clearFieldErrors, today } from './common.js'
import { planBody, DEFAULT_SECTION_KEYS } from '../group-logic.js'

const CADENCES = [1, 2, 3, 4, 6, 12]

function input (name, attrs = {}) {
  return h('input', { type: 'text', id: uid('np'), name, ...attrs })
}

function labelled (label, el, hint) {
  const hintEl = hint ? h('p', { class: 'hint', id: `${el.id}-hint`, text: hint }) : null
  if (hintEl) el.setAttribute('aria-describedby', hintEl.id)
  return h('div', { class: 'field' }, h('label', { for: el.id, text: label }), hintEl, el)
}

export async function renderNewPlan (main, { app }) {
  main.append(
    h('h1', { text: t('newplan.title') }),
    h('p', { class: 'lead', text: t('newplan.lead') }))

  const form = h('form', { class: 'new-plan', novalidate: true })
  const error = h('p', { class: 'form-error', role: 'alert' })

  // Whom the plan is for.
  const forOther = h('input', { type: 'radio', name: 'for', id: uid('for'), value: 'other', checked: true })
  const forSelf = h('input', { type: 'radio', name: 'for', id: uid('for'), value: 'self' })
  const ownerName = input('owner_name', { autocomplete: 'off', maxlength: '200', required: true })
  const ownerPhone = input('owner.phone', { type: 'tel', autocomplete: 'off', maxlength: '40' })
  const ownerEmail = input('owner.email', { type: 'email', autocomplete: 'off', maxlength: '320' })
  const myOrg = input('coordinator.organisation', { maxlength: '200', autocomplete: 'organization' })
  const myPhone = input('coordinator.phone', { type: 'tel', maxlength: '40', autocomplete: 'tel' })
  const myEmail = input('coordinator.email', { type: 'email', maxlength: '320', autocomplete: 'email' })
  const ownerBox = h('div', { class: 'owner-fields' },
    labelled(t('newplan.owner.name'), ownerName),
    h('div', { class: 'field-row' },
      labelled(t('newplan.owner.phone'), ownerPhone),
      labelled(t('newplan.owner.email'), ownerEmail, t('newplan.owner.email.hint'))),
    h('fieldset', {}, h('legend', { text: t('newplan.me') }),
      h('p', { class: 'hint', text: t('newplan.me.hint', { name: app.session.name }) }),
      labelled(t('newplan.me.org'), myOrg),
      h('div', { class: 'field-row' }, labelled(t('contact.phone'), myPhone), labelled(t('contact.email'), myEmail))))

  const whom = h('fieldset', {},
    h('legend', { text: t('newplan.whom') }),
    h('div', { class: 'check' }, forOther, h('label', { for: forOther.id, text: t('newplan.whom.other') })),
    h('div', { class: 'check' }, forSelf, h('label', { for: forSelf.id, text: t('newplan.whom.self') })),
    ownerBox)
  const syncWhom = () => { ownerBox.hidden = forSelf.checked }
  forOther.addEventListener('change', syncWhom)
  forSelf.addEventListener('change', syncWhom)

  // Guardians (for a child, or someone with a guardian).
  const guardianList = h('ul', { class: 'plain-list guardian-rows' })
  const guardianRows = []
  const addGuardian = h('button', { type: 'button', class: 'button', text: t('newplan.guardian.add') })
  function guardianRow () {
    const n = guardianRows.length
    const name = input(`guardians.${n}.name`, { maxlength: '200', autocomplete: 'off' })
    const phone = input(`guardians.${n}.phone`, { type: 'tel', maxlength: '40', autocomplete: 'off' })
    const email = input(`guardians.${n}.email`, { type: 'email', maxlength: '320', autocomplete: 'off' })
    const remove = h('button', { type: 'button', class: 'button quiet small', text: t('newplan.guardian.remove') })
    const row = { name, phone, email }
    const li = h('li', { class: 'guardian-row' },
      h('fieldset', {}, h('legend', { text: t('newplan.guardian.n', { n: n + 1 }) }),
        labelled(t('contact.name'), name),
        h('div', { class: 'field-row' }, labelled(t('contact.phone'), phone), labelled(t('contact.email'), email)),
        remove))
    remove.addEventListener('click', () => {
      guardianRows.splice(guardianRows.indexOf(row), 1)
      li.remove()
      addGuardian.hidden = false
      addGuardian.focus()
    })
    guardianRows.push(row)
    guardianList.append(li)
    addGuardian.hidden = guardianRows.length >= 4
    name.focus()
  }
  addGuardian.addEventListener('click', guardianRow)
  const guardians = h('fieldset', {},
    h('legend', { text: t('newplan.guardians') }),
    h('p', { class: 'hint', text: t('newplan.guardians.hint') }),
    guardianList, addGuardian)

  // Title, period, evaluation.
  const title = input('title', { maxlength: '200' })
  const from = h('input', { type: 'date', id: uid('np'), name: 'period_from', value: today() })
  const to = h('input', { type: 'date', id: uid('np'), name: 'period_to' })
  const cadence = h('select', { id: uid('np'), name: 'evaluation_months' },
    options(CADENCES.map((m) => [String(m), t('newplan.cadence.n', { n: m })]), '6'))
  const plan = h('fieldset', {},
    h('legend', { text: t('newplan.plan') }),
    labelled(t('newplan.plan.title'), title, t('newplan.plan.title.hint')),
    h('div', { class: 'field-row' },
      labelled(t('newplan.period.from'), from),
      labelled(t('newplan.period.to'), to, t('newplan.period.to.hint'))),
    labelled(t('newplan.cadence'), cadence, t('newplan.cadence.hint')))

  // Sections.
  const boxes = DEFAULT_SECTION_KEYS.map((key) => {
    const box = h('input', { type: 'checkbox', id: uid('sec'), value: key, checked: true })
    return { key, box, el: h('div', { class: 'check' }, box, h('label', { for: box.id, text: t(`newplan.section.${key}`) })) }
  })
  const sections = h('fieldset', { class: 'section-choice' },
    h('legend', { text: t('newplan.sections') }),
    h('p', { class: 'hint', id: 'sections-hint', text: t('newplan.sections.hint') }),
    h('div', { class: 'section-boxes', 'data-name': 'sections' }, boxes.map((b) => b.el)),
    h('input', { type: 'hidden', name: 'sections', id: uid('np') }))

  const submit = h('button', { type: 'submit', class: 'button big primary', text: t('newplan.create') })
  form.append(whom, guardians, plan, sections,
    h('p', { class: 'hint', text: t('newplan.next') }),
    error, h('div', { class: 'button-row' }, submit,
      h('a', { class: 'button', href: '/', 'data-link': '', text: t('action.cancel') })))
  main.append(form)

  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    clearFieldErrors(form)
    error.textContent = ''
    const self = forSelf.checked
    if (!self && !ownerName.value.trim()) {
      showError(form, { field: 'owner_name', message: t('newplan.owner.missing') }, error)
      return
    }
    const chosen = boxes.filter((b) => b.box.checked).map((b) => b.key)
    if (!chosen.length) {
      error.textContent = t('newplan.sections.missing')
      boxes[0].box.focus()
      return
    }
    const name = self ? app.session.name : ownerName.value.trim()
    const body = planBody({
      forSelf: self,
      ownerName: ownerName.value,
      ownerPhone: ownerPhone.value,
      ownerEmail: ownerEmail.value,
      guardians: guardianRows.map((g) => ({ name: g.name.value, phone: g.phone.value, email: g.email.value })),
      myName: app.session.name,
      myOrganisation: myOrg.value,
      myPhone: myPhone.value,
      myEmail: myEmail.value,
      title: title.value,
      defaultTitle: t('newplan.plan.title.default', { name }),
      periodFrom: from.value,
      periodTo: to.value,
      evaluationMonths: cadence.value,
      sections: chosen
    })
    submit.disabled = true
    try {
      const made = await api.post('/api/plans', body)
      app.announce(t('newplan.created'))
      app.navigate(`/plan/${made.id}/gruppe`)
    } catch (err) {
      showError(form, err, error)
      submit.disabled = false
    }
  })
  return t('newplan.title')
}
