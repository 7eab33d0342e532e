// Consent (samtykke): the owner decides, per participant and section, one of
// four plain levels, for a purpose and a period; sees what each person will
// see before signing; and can withdraw at any time.
import { h, clear, options, uid } from '../dom.js'
import { api, ApiError, upload } from '../api.js'
import { t, formatDate, formatDateTime } from '../i18n.js'
import { planNav, participantLabel, roleName, errorText } from './common.js'

const LEVELS = ['none', 'own', 'read', 'edit']
const MAX_FORM_BYTES = 5 * 1024 * 1024
const FORM_TYPES = 'application/pdf,image/jpeg,image/png'

function formSize (bytes) {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} kB`
}

export async function renderConsent (main, { params: [planId], scope, app }) {
  const plan = await api.get(`/api/plans/${planId}`)
  let consent = null
  try {
    consent = await api.get(`/api/plans/${planId}/consent`)
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err
  }
  const can = plan.can ?? {}
  // Signs in-app in their own name (the owner, a guardian); otherwise records on paper.
  const full = can.sign_consent === true
  const nameOf = new Map(plan.participants.map((p) => [p.id, p.name]))
  const manage = can.read_consent === true
  main.append(h('h1', { text: t('consent.title') }), planNav(planId, 'consent', plan.can))

  const sections = [...plan.sections].filter((s) => !s.archived).sort((a, b) => a.position - b.position)
  const titleOf = new Map(sections.map((s) => [s.id, s.title]))

  if (!manage) {
    // A participant sees their own grants only.
    main.append(h('p', { class: 'lead', text: t('consent.mine.lead') }))
    const mine = (consent?.grants ?? []).filter((g) => g.level !== 'none')
    main.append(h('ul', { class: 'plain-list' }, mine.length
      ? mine.map((g) => h('li', { text: `${titleOf.get(g.section) ?? t('consent.section.unknown')}: ${t(`level.${g.level}`)}` }))
      : h('li', { text: t('consent.mine.none') })))
    if (consent) main.append(h('p', { text: t('consent.period', { from: formatDate(consent.valid_from), to: consent.valid_to ? formatDate(consent.valid_to) : t('consent.no.end') }) }))
    return t('consent.title')
  }

  // Whose access is a matter of consent, and who signs: the server says (participant_facts).
  const participants = plan.participants.filter((p) => !p.full_access && p.active)
  const levelOf = new Map()
  const key = (p, s) => `${p}:${s}`
  for (const g of consent?.grants ?? []) levelOf.set(key(g.participant, g.section), g.level)

  // Current state.
  const status = h('div', { class: 'card' })
  if (consent) {
    const withdrawal = consent.kind === 'withdrawal'
    status.append(
      h('h2', { text: t('consent.current') }),
      h('p', { text: t('consent.version', { version: consent.version, date: formatDateTime(consent.signed_at) }) + (withdrawal ? ` ${t('consent.was.withdrawal')}` : '') }),
      h('p', { text: `${t('consent.purpose.short')}: ${consent.purpose}` }),
      h('p', { text: t('consent.period', { from: formatDate(consent.valid_from), to: consent.valid_to ? formatDate(consent.valid_to) : t('consent.no.end') }) }))
    const signer = nameOf.get(consent.signed_by) ?? t('consent.someone')
    const recorder = nameOf.get(consent.recorded_by) ?? t('consent.someone')
    const how = consent.method === 'paper'
      ? h('p', { class: 'consent-method', text: t('consent.method.paper', { signer, recorder }) })
      : h('p', { class: 'consent-method', text: t('consent.method.in-app', { signer, how: consent.sign_in || '–' }) })
    status.append(how)
    if (consent.form && (full || consent.recorded_by === plan.me.participant)) {
      status.append(h('p', {}, h('a', {
        href: `/api/plans/${planId}/consent/forms/${consent.form.id}`,
        download: '',
        text: t('consent.form.download', { type: consent.form.type.split('/')[1].toUpperCase(), size: formSize(consent.form.size) })
      })))
    }
    if (full && consent.recorded_by !== plan.me.participant && consent.version > 1) {
      const undoError = h('p', { class: 'form-error', role: 'alert' })
      const undo = h('button', { type: 'button', class: 'button', text: t('consent.undo', { name: recorder }) })
      undo.addEventListener('click', async () => {
        undo.disabled = true
        try {
          await api.post(`/api/plans/${planId}/consent/${consent.version}/undo`)
          app.announce(t('consent.undone'))
          app.refresh()
        } catch (err) {
          undoError.textContent = errorText(err)
          undo.disabled = false
        }
      })
      status.append(h('p', { class: 'hint', text: t('consent.undo.explain') }), h('div', { class: 'button-row' }, undo), undoError)
    }
  } else {
    status.append(h('h2', { text: t('consent.current') }), h('p', { text: t('consent.none') }))
  }
  main.append(status)

  // The grid: sections × participants.
  const form = h('form', { class: 'consent-form', 'aria-labelledby': 'grid-title' })
  const table = h('table', { class: 'consent-grid' })
  const caption = h('caption', { id: 'grid-title', text: t('consent.grid') })
  const headRow = h('tr', {}, h('th', { scope: 'col', text: t('consent.section') }),
    participants.map((p) => h('th', { scope: 'col' }, h('span', { text: p.name }), h('span', { class: 'meta block', text: p.service || roleName(p.role) }))))
  const body = h('tbody')
  const selects = []
  for (const s of sections) {
    const row = h('tr', {}, h('th', { scope: 'row', text: s.title }))
    for (const p of participants) {
      const select = h('select', {
        id: uid('lvl'),
        'aria-label': t('consent.cell', { name: p.name, section: s.title }),
        dataset: { participant: p.id, section: s.id }
      }, options(LEVELS.map((l) => [l, t(`level.${l}`)]), levelOf.get(key(p.id, s.id)) ?? 'none'))
      select.addEventListener('change', renderSummary)
      selects.push(select)
      row.append(h('td', {}, select))
    }
    body.append(row)
  }
  table.append(caption, h('thead', {}, headRow), body)
  const gridWrap = h('div', { class: 'table-scroll consent-wide', tabindex: '0', role: 'region', 'aria-labelledby': 'grid-title' }, table)
  const cards = consentCards(participants, sections, selects, renderSummary)

  const purpose = h('textarea', { id: uid('purpose'), rows: '2', required: true, maxlength: '1000' })
  purpose.value = consent?.purpose ?? ''
  const from = h('input', { type: 'date', id: uid('from') })
  const to = h('input', { type: 'date', id: uid('to') })
  if (consent?.valid_to) to.value = consent.valid_to.slice(0, 10)
  const signerChoices = plan.participants.filter((p) => p.signs_consent)
  const signer = h('select', { id: uid('signer') }, options(signerChoices.map((p) => [p.id, `${p.name} (${roleName(p.role)})`]),
    full ? plan.me.participant : signerChoices[0]?.id))
  // The owner or a guardian signs here with their own sign-in; anyone else records a
  // signature given on paper, with the signed form attached.
  const paper = !full
  const file = h('input', { type: 'file', id: uid('form'), accept: FORM_TYPES, required: paper })
  const summary = h('div', { class: 'summary', 'aria-live': 'polite', id: 'consent-summary' })
  const error = h('p', { class: 'form-error', role: 'alert' })
  const confirm = h('input', { type: 'checkbox', id: uid('confirm'), required: true })
  const sign = h('button', { type: 'submit', class: 'button big primary', text: full ? t('consent.sign') : t('consent.record') })

  form.append(
    h('h2', { text: t('consent.new') }),
    h('p', { class: 'lead', text: t('consent.explain') }),
    h('dl', { class: 'levels' }, LEVELS.map((l) => [h('dt', { text: t(`level.${l}`) }), h('dd', { text: t(`level.${l}.explain`) })])),
    gridWrap,
    cards,
    h('div', { class: 'field' }, h('label', { for: purpose.id, text: t('consent.purpose') }), purpose),
    h('div', { class: 'field-row' },
      h('div', { class: 'field' }, h('label', { for: from.id, text: t('consent.from') }), h('p', { class: 'hint', text: t('consent.from.hint') }), from),
      h('div', { class: 'field' }, h('label', { for: to.id, text: t('consent.to') }), h('p', { class: 'hint', text: t('consent.to.hint') }), to)),
    ...(paper
      ? [h('div', { class: 'field' }, h('label', { for: signer.id, text: t('consent.signer') }), signer),
          h('div', { class: 'field' }, h('label', { for: file.id, text: t('consent.form') }), h('p', { class: 'hint', text: t('consent.form.hint') }), file)]
      : [h('p', { class: 'hint', text: t('consent.sign.in-app') })]),
    h('h2', { id: 'summary-title', text: t('consent.summary') }),
    summary,
    h('div', { class: 'check' }, confirm, h('label', { for: confirm.id, text: t('consent.confirm') })),
    error,
    h('div', { class: 'button-row' }, sign))
  main.append(form)

  function renderSummary () {
    clear(summary)
    const list = h('ul', { class: 'summary-list' })
    for (const p of participants) {
      const by = { edit: [], read: [], own: [] }
      for (const select of selects) {
        if (select.dataset.participant !== p.id || select.value === 'none') continue
        by[select.value].push(titleOf.get(select.dataset.section))
      }
      const parts = []
      for (const level of ['edit', 'read', 'own']) {
        if (by[level].length) parts.push(t(`summary.${level}`, { sections: by[level].join(', ') }))
      }
      list.append(h('li', {}, h('strong', { text: participantLabel(p) }), ': ',
        parts.length ? parts.join(' ') : t('summary.nothing')))
    }
    summary.append(list)
  }
  renderSummary()

  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    error.textContent = ''
    if (!purpose.value.trim()) { error.textContent = t('consent.purpose.missing'); purpose.focus(); return }
    const grants = selects.filter((s) => s.value !== 'none').map((s) => ({ participant: s.dataset.participant, section: s.dataset.section, level: s.value }))
    const bodyJson = { purpose: purpose.value.trim(), grants }
    if (from.value) bodyJson.valid_from = new Date(`${from.value}T00:00:00`).toISOString()
    bodyJson.valid_to = to.value ? new Date(`${to.value}T23:59:59`).toISOString() : null
    if (paper) {
      const chosen = file.files?.[0]
      if (!chosen) { error.textContent = t('consent.form.missing'); file.focus(); return }
      if (chosen.size > MAX_FORM_BYTES) { error.textContent = t('consent.form.too.large'); file.focus(); return }
      if (signer.value) bodyJson.signed_by = signer.value
    }
    sign.disabled = true
    try {
      if (paper) bodyJson.form = (await upload(`/api/plans/${planId}/consent/forms`, file.files[0])).id
      await api.post(`/api/plans/${planId}/consent`, bodyJson)
      app.announce(t('consent.signed'))
      app.refresh()
    } catch (err) {
      error.textContent = errorText(err)
      sign.disabled = false
    }
  })

  // Withdraw.
  if (consent && can.withdraw_consent) {
    const withdrawBox = h('section', { class: 'card withdraw', 'aria-labelledby': 'withdraw-title' },
      h('h2', { id: 'withdraw-title', text: t('consent.withdraw') }),
      h('p', { text: t('consent.withdraw.explain') }))
    const wError = h('p', { class: 'form-error', role: 'alert' })
    const list = h('ul', { class: 'withdraw-list' })
    const withdraw = async (participant, button) => {
      if (button.dataset.confirm !== 'yes') {
        button.dataset.confirm = 'yes'
        button.textContent = t('consent.withdraw.confirm')
        return
      }
      button.disabled = true
      try {
        await api.post(`/api/plans/${planId}/consent/withdraw`, participant ? { participant } : {})
        app.announce(t('consent.withdrawn'))
        app.refresh()
      } catch (err) {
        wError.textContent = errorText(err)
        button.disabled = false
      }
    }
    for (const p of participants) {
      const has = (consent.grants ?? []).some((g) => g.participant === p.id && g.level !== 'none')
      if (!has) continue
      const button = h('button', { type: 'button', class: 'button danger', dataset: { participant: p.id }, text: t('consent.withdraw.one', { name: p.name }) })
      button.addEventListener('click', () => withdraw(p.id, button))
      list.append(h('li', {}, button))
    }
    const all = h('button', { type: 'button', class: 'button danger', text: t('consent.withdraw.all') })
    all.addEventListener('click', () => withdraw(null, all))
    withdrawBox.append(list, h('p', {}, all), wError)
    main.append(withdrawBox)
  }
  return t('consent.title')
}

// On a narrow screen the grid becomes one card per person, one person at a time (chosen
// in a list): the same choices as the grid's, kept in step with it both ways (the grid's
// selects are the ones sent). CSS shows the grid or the cards, never both.
function consentCards (participants, sections, gridSelects, onChange) {
  const twins = new Map() // grid select -> card select
  const cardsOf = []
  const chooser = h('select', { id: uid('person'), class: 'consent-person' },
    options(participants.map((p, n) => [String(n), `${p.name} (${p.service || roleName(p.role)})`])))
  const pager = h('p', { class: 'consent-pager', 'aria-live': 'polite' })
  participants.forEach((p, n) => {
    const card = h('fieldset', { class: 'consent-card', dataset: { participant: p.id } },
      h('legend', {}, h('span', { class: 'consent-card-name', text: p.name }), h('span', { class: 'meta block', text: p.service || roleName(p.role) })))
    for (const s of sections) {
      const twin = gridSelects.find((g) => g.dataset.participant === p.id && g.dataset.section === s.id)
      const select = h('select', { id: uid('card') }, options(LEVELS.map((l) => [l, t(`level.${l}`)]), twin.value))
      select.addEventListener('change', () => { twin.value = select.value; onChange() })
      twin.addEventListener('change', () => { select.value = twin.value })
      twins.set(twin, select)
      card.append(h('div', { class: 'field' }, h('label', { for: select.id, text: s.title }), select))
    }
    card.hidden = n !== 0
    cardsOf.push(card)
  })
  const show = (n) => {
    cardsOf.forEach((c, i) => { c.hidden = i !== n })
    chooser.value = String(n)
    pager.textContent = t('consent.card.of', { n: n + 1, count: cardsOf.length })
    prev.disabled = n === 0
    next.disabled = n === cardsOf.length - 1
  }
  const prev = h('button', { type: 'button', class: 'button', text: t('consent.card.prev'), onclick: () => show(Number(chooser.value) - 1) })
  const next = h('button', { type: 'button', class: 'button', text: t('consent.card.next'), onclick: () => show(Number(chooser.value) + 1) })
  chooser.addEventListener('change', () => show(Number(chooser.value)))
  const wrap = h('div', { class: 'consent-cards consent-narrow' },
    h('div', { class: 'field' }, h('label', { for: chooser.id, text: t('consent.card.choose') }), chooser),
    pager, ...cardsOf, h('div', { class: 'button-row' }, prev, next))
  if (cardsOf.length) show(0)
  else wrap.hidden = true
  return wrap
}
