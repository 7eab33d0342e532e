// The responsibility group: who is in it and whether they have signed in; add someone,
// invite them (a link by e-mail, or shown to copy), send again, revoke an invitation,
// remove someone (after a confirmation), and hand the coordinator role over (the owner's
// or a guardian's choice). While nobody has signed consent, the consent step comes first.
// Every control follows the server's `can` (the plan's and each participant's); the
// list holds only the people the server lets this reader know of.
import { h, uid, options, clear } from '../dom.js'
import { continuityCards } from './continuity.js'
import { api } from '../api.js'
import { t, formatDate } from '../i18n.js'
import { planNav, roleName, showError, clearFieldErrors, errorText } from './common.js'
import { inviteState, nationalId } from '../group-logic.js'

export async function renderGroup (main, { params: [planId], app }) {
  const [plan, group] = await Promise.all([
    api.get(`/api/plans/${planId}`),
    api.get(`/api/plans/${planId}/group`)
  ])
  const can = group.can ?? {}
  main.append(h('h1', { text: t('group.title') }), planNav(planId, 'group', plan.can))
  main.append(h('p', { class: 'lead', text: t('group.lead', { plan: plan.title }) }))
  if (group.setup) main.append(consentStep(planId, can))

  const list = h('ul', { class: 'group-list plain-list', 'aria-label': t('group.list') })
  for (const p of group.participants) list.append(participantItem(planId, p, group, app))
  main.append(h('h2', { text: t('group.members', { count: group.participants.length }) }), list)
  if (group.add_roles.length) main.append(addForm(planId, group, app))
  else if (!can.manage_plan) main.append(h('p', { class: 'hint', text: t('group.readonly') }))
  for (const card of await continuityCards(planId, group, app)) main.append(card)
  return t('group.title')
}

// Nothing is shared before the owner (or a guardian) signs: in Planrom with their own
// sign-in, or on paper, recorded by the coordinator with the signed form attached.
function consentStep (planId, can) {
  const box = h('section', { class: 'card consent-step', 'aria-labelledby': 'consent-step-title' },
    h('h2', { id: 'consent-step-title', text: t('group.consent.title') }),
    h('p', { text: can.sign_consent ? t('group.consent.own') : t('group.consent.text') }))
  if (can.sign_consent) {
    box.append(h('p', { class: 'button-row' },
      h('a', { class: 'button primary', href: `/plan/${planId}/samtykke`, 'data-link': '', text: t('group.consent.sign') })))
    return box
  }
  const ways = h('ol', { class: 'consent-ways' },
    h('li', {}, h('strong', { text: t('group.consent.app') }), ' ', t('group.consent.app.text')))
  if (can.record_consent_on_paper) {
    ways.append(h('li', {}, h('strong', { text: t('group.consent.paper') }), ' ', t('group.consent.paper.text'),
      h('p', {}, h('a', { class: 'button', href: `/plan/${planId}/samtykke`, 'data-link': '', text: t('group.consent.paper.link') }))))
  }
  box.append(ways)
  return box
}

const STATE_FLAG = {
  'signed-in': 'ok',
  invited: 'info',
  expired: 'warn',
  revoked: 'warn',
  none: 'info'
}

function participantItem (planId, p, group, app) {
  const headingId = uid('member')
  const state = inviteState(p)
  const card = h('article', { class: 'card member', 'aria-labelledby': headingId, dataset: { participant: p.id } })
  const org = [p.title, p.service, p.organisation].filter(Boolean).join(', ')
  const me = p.id === group.me ? ` (${t('group.you')})` : ''
  card.append(h('h3', { id: headingId, class: 'member-name' }, h('span', { text: p.name + me }), ' ',
    h('span', { class: 'member-role', text: roleName(p.role) })))
  if (org) card.append(h('p', { class: 'meta', text: org }))
  if (p.hidden) card.append(h('p', { class: 'meta member-hidden', text: t('group.hidden') }))
  const contact = [p.phone, p.email].filter(Boolean)
  if (contact.length) card.append(h('p', { class: 'meta member-contact', text: contact.join(' · ') }))
  if ('signed_in' in p) {
    const inv = p.invitation
    const words = {
      'signed-in': t('group.state.signed-in'),
      invited: t('group.state.invited', { date: inv ? formatDate(inv.expires_at) : '' }),
      expired: t('group.state.expired'),
      revoked: t('group.state.revoked'),
      none: t('group.state.none')
    }[state]
    card.append(h('p', { class: 'member-state' },
      h('span', { class: `flag flag-${STATE_FLAG[state]}`, dataset: { state }, text: words }),
      inv && state === 'invited' && inv.email ? h('span', { class: 'meta', text: ` ${t('group.state.to', { email: inv.email })}` }) : null))
  }
  const status = h('p', { class: 'inline-note', role: 'status' })
  const area = h('div', { class: 'member-panel' })
  const buttons = h('div', { class: 'button-row member-actions' })
  const can = p.can ?? {}

  if (can.invite) {
    const again = state === 'invited' || state === 'expired' || state === 'revoked'
    const invite = h('button', { type: 'button', class: again ? 'button' : 'button primary', text: again ? t('group.invite.again') : t('group.invite') })
    invite.addEventListener('click', () => openPanel(area, inviteForm(planId, p, app), invite))
    buttons.append(invite)
  }
  if (state === 'invited' && p.invitation && can.invite) {
    const revoke = h('button', { type: 'button', class: 'button quiet', text: t('group.revoke') })
    revoke.addEventListener('click', async () => {
      revoke.disabled = true
      try {
        await api.del(`/api/plans/${planId}/invitations/${p.invitation.id}`)
        app.announce(t('group.revoked', { name: p.name }))
        app.refresh()
      } catch (err) {
        status.classList.add('is-error')
        status.textContent = errorText(err)
        revoke.disabled = false
      }
    })
    buttons.append(revoke)
  }
  if (can.replace) {
    const replace = h('button', { type: 'button', class: 'button', text: t('group.replace') })
    replace.addEventListener('click', () => openPanel(area, replaceForm(planId, p, app), replace))
    buttons.append(replace)
  }
  if (can.remove) {
    const remove = h('button', { type: 'button', class: 'button danger', text: t('group.remove') })
    remove.addEventListener('click', () => openPanel(area, removeConfirm(planId, p, app, () => remove.focus()), remove))
    buttons.append(remove)
  }
  if (can.ask_to_replace) card.append(h('p', { class: 'hint', text: t('group.replace.ask') }))
  if (buttons.children.length) card.append(buttons)
  card.append(area, status)
  return h('li', {}, card)
}

function openPanel (area, panel, opener) {
  const open = area.firstChild?.dataset?.opener === opener.textContent
  clear(area)
  if (open) { opener.setAttribute('aria-expanded', 'false'); return }
  panel.dataset.opener = opener.textContent
  for (const b of opener.parentElement.querySelectorAll('button')) b.setAttribute('aria-expanded', b === opener ? 'true' : 'false')
  area.append(panel)
  panel.querySelector('input:not([type=radio]), button')?.focus()
}

function inviteForm (planId, p, app) {
  const byEmail = h('input', { type: 'radio', name: `by-${p.id}`, id: uid('by'), value: 'email', checked: true })
  const byLink = h('input', { type: 'radio', name: `by-${p.id}`, id: uid('by'), value: 'link' })
  const email = h('input', { type: 'email', id: uid('email'), name: 'email', value: p.email || '', maxlength: '320', autocomplete: 'off' })
  const emailField = h('div', { class: 'field' }, h('label', { for: email.id, text: t('group.invite.email') }), email)
  const pid = h('input', { type: 'text', id: uid('pid'), name: 'national_id', inputmode: 'numeric', autocomplete: 'off', maxlength: '14' })
  const error = h('p', { class: 'form-error', role: 'alert' })
  const submit = h('button', { type: 'submit', class: 'button primary', text: t('group.invite.send') })
  const form = h('form', { class: 'invite-form', novalidate: true },
    h('fieldset', {}, h('legend', { text: t('group.invite.how', { name: p.name }) }),
      h('div', { class: 'check' }, byEmail, h('label', { for: byEmail.id, text: t('group.invite.by.email') })),
      h('div', { class: 'check' }, byLink, h('label', { for: byLink.id, text: t('group.invite.by.link') }))),
    emailField,
    p.needs_identity
      ? h('div', { class: 'field' }, h('label', { for: pid.id, text: t('group.invite.pid') }),
        h('p', { class: 'hint', id: `${pid.id}-hint`, text: t('group.invite.pid.hint', { name: p.name }) }), pid)
      : null,
    error, h('div', { class: 'button-row' }, submit))
  if (p.needs_identity) pid.setAttribute('aria-describedby', `${pid.id}-hint`)
  const sync = () => { emailField.hidden = byLink.checked }
  byEmail.addEventListener('change', sync)
  byLink.addEventListener('change', sync)
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    clearFieldErrors(form)
    error.textContent = ''
    const body = {}
    if (byLink.checked) body.by = 'link'
    else {
      if (!email.value.trim()) { showError(form, { field: 'email', message: t('group.invite.email.missing') }, error); return }
      body.email = email.value.trim()
    }
    if (p.needs_identity) {
      const id = nationalId(pid.value)
      if (!id) { showError(form, { field: 'national_id', message: t('group.invite.pid.invalid') }, error); return }
      body.national_id = id
    }
    submit.disabled = true
    try {
      const sent = await api.post(`/api/plans/${planId}/participants/${p.id}/invite`, body)
      if (sent.delivery === 'failed') throw Object.assign(new Error(sent.error), { message: t('group.invite.failed') })
      if (sent.delivery === 'link') {
        const flag = form.closest('article')?.querySelector('.member-state .flag')
        if (flag) {
          flag.className = 'flag flag-info'
          flag.dataset.state = 'invited'
          flag.textContent = t('group.state.invited', { date: formatDate(sent.expires_at) })
        }
        form.replaceWith(linkBox(sent.url, p, app))
      } else {
        app.announce(t('group.invite.sent', { name: p.name, email: sent.email }))
        app.refresh()
      }
    } catch (err) {
      showError(form, err, error)
      submit.disabled = false
    }
  })
  return form
}

// A link shown to copy (and hand over in person, or by a channel the inviter trusts).
function linkBox (url, p, app) {
  const field = h('input', { type: 'text', id: uid('link'), readOnly: true, value: url, class: 'invite-link' })
  const copied = h('p', { class: 'inline-note', role: 'status' })
  const copy = h('button', { type: 'button', class: 'button primary', text: t('group.link.copy') })
  copy.addEventListener('click', async () => {
    field.select()
    try {
      await navigator.clipboard.writeText(url)
      copied.textContent = t('group.link.copied')
    } catch {
      copied.textContent = t('group.link.select')
    }
  })
  const done = h('button', { type: 'button', class: 'button', text: t('group.link.done'), onclick: () => app.refresh() })
  return h('div', { class: 'link-box' },
    h('label', { for: field.id, text: t('group.link.label', { name: p.name }) }),
    h('p', { class: 'hint', text: t('group.link.hint') }),
    field, h('div', { class: 'button-row' }, copy, done), copied)
}

function removeConfirm (planId, p, app, back) {
  const error = h('p', { class: 'form-error', role: 'alert' })
  const yes = h('button', { type: 'button', class: 'button danger', text: t('group.remove.yes', { name: p.name }) })
  const no = h('button', { type: 'button', class: 'button', text: t('action.cancel') })
  const box = h('div', { class: 'confirm', role: 'group', 'aria-label': t('group.remove.confirm', { name: p.name }) },
    h('p', { class: 'confirm-text', text: t('group.remove.confirm', { name: p.name }) }),
    h('p', { text: t('group.remove.explain') }),
    h('div', { class: 'button-row' }, yes, no), error)
  no.addEventListener('click', () => { box.remove(); back() })
  yes.addEventListener('click', async () => {
    yes.disabled = true
    try {
      await api.patch(`/api/plans/${planId}/participants/${p.id}`, { active: false })
      app.announce(t('group.removed', { name: p.name }))
      app.refresh()
    } catch (err) {
      error.textContent = errorText(err)
      yes.disabled = false
    }
  })
  return box
}

function replaceForm (planId, p, app) {
  const name = h('input', { type: 'text', id: uid('rc'), name: 'name', maxlength: '200', autocomplete: 'off' })
  const org = h('input', { type: 'text', id: uid('rc'), name: 'organisation', maxlength: '200' })
  const phone = h('input', { type: 'tel', id: uid('rc'), name: 'phone', maxlength: '40' })
  const email = h('input', { type: 'email', id: uid('rc'), name: 'email', maxlength: '320' })
  const error = h('p', { class: 'form-error', role: 'alert' })
  const submit = h('button', { type: 'submit', class: 'button primary', text: t('group.replace.do') })
  const form = h('form', { class: 'replace-form', novalidate: true },
    h('p', { text: t('group.replace.explain', { name: p.name }) }),
    h('div', { class: 'field' }, h('label', { for: name.id, text: t('group.replace.name') }), name),
    h('div', { class: 'field' }, h('label', { for: org.id, text: t('group.add.organisation') }), org),
    h('div', { class: 'field-row' },
      h('div', { class: 'field' }, h('label', { for: phone.id, text: t('contact.phone') }), phone),
      h('div', { class: 'field' }, h('label', { for: email.id, text: t('contact.email') }), email)),
    error, h('div', { class: 'button-row' }, submit))
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    clearFieldErrors(form)
    if (!name.value.trim()) { showError(form, { field: 'name', message: t('group.add.name.missing') }, error); return }
    const body = { name: name.value.trim() }
    for (const [key, el] of [['organisation', org], ['phone', phone], ['email', email]]) if (el.value.trim()) body[key] = el.value.trim()
    submit.disabled = true
    try {
      await api.post(`/api/plans/${planId}/participants/${p.id}/replace`, body)
      app.announce(t('group.replaced', { name: body.name }))
      app.refresh()
    } catch (err) {
      showError(form, err, error)
      submit.disabled = false
    }
  })
  return form
}

function addForm (planId, group, app) {
  const role = h('select', { id: uid('add'), name: 'role' },
    options(group.add_roles.map((r) => [r, roleName(r)]), group.add_roles[0]))
  const name = h('input', { type: 'text', id: uid('add'), name: 'name', maxlength: '200', autocomplete: 'off' })
  const org = h('input', { type: 'text', id: uid('add'), name: 'organisation', maxlength: '200', autocomplete: 'off' })
  const service = h('input', { type: 'text', id: uid('add'), name: 'service', maxlength: '200', autocomplete: 'off' })
  const phone = h('input', { type: 'tel', id: uid('add'), name: 'phone', maxlength: '40', autocomplete: 'off' })
  const email = h('input', { type: 'email', id: uid('add'), name: 'email', maxlength: '320', autocomplete: 'off' })
  const error = h('p', { class: 'form-error', role: 'alert' })
  const submit = h('button', { type: 'submit', class: 'button big primary', text: t('group.add.do') })
  const field = (label, el, hint) => h('div', { class: 'field' }, h('label', { for: el.id, text: label }),
    hint ? h('p', { class: 'hint', text: hint }) : null, el)
  const form = h('form', { class: 'card add-member', 'aria-labelledby': 'add-title', novalidate: true },
    h('h2', { id: 'add-title', text: t('group.add') }),
    h('p', { class: 'hint', text: group.can?.sign_consent ? t('group.add.hint.own') : t('group.add.hint') }),
    field(t('group.add.role'), role),
    field(t('group.add.name'), name),
    h('div', { class: 'field-row' },
      field(t('group.add.organisation'), org, t('group.add.organisation.hint')),
      field(t('group.add.service'), service, t('group.add.service.hint'))),
    h('div', { class: 'field-row' },
      field(t('contact.phone'), phone),
      field(t('contact.email'), email)),
    error, h('div', { class: 'button-row' }, submit))
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    clearFieldErrors(form)
    error.textContent = ''
    if (!name.value.trim()) { showError(form, { field: 'name', message: t('group.add.name.missing') }, error); return }
    const body = { role: role.value, name: name.value.trim() }
    for (const [key, el] of [['organisation', org], ['service', service], ['phone', phone], ['email', email]]) if (el.value.trim()) body[key] = el.value.trim()
    submit.disabled = true
    try {
      const added = await api.post(`/api/plans/${planId}/participants`, body)
      app.announce(t('group.added', { name: added.name }))
      await app.refresh()
      // Straight on to the invitation of the one just added, when one may be sent.
      const item = document.querySelector(`[data-participant="${CSS.escape(added.id)}"]`)
      item?.scrollIntoView({ block: 'center' })
      item?.querySelector('.member-actions button')?.focus()
    } catch (err) {
      showError(form, err, error)
      submit.disabled = false
    }
  })
  return form
}
