// The registration page (/w/{slug}): the webinar's facts in the viewer's language and time zone,
// its form (name, email, the organiser's own fields, the privacy notice, an unticked consent
// box), and once registered the personal join link, the calendar file and the approval note.
'use strict';

(function () {
  const { t } = lcText;
  const { el, fieldError, clearErrors, request } = lcUI;
  const slug = decodeURIComponent(location.pathname.split('/')[2] || '');
  const $ = (id) => document.getElementById(id);
  const form = $('form');
  let webinar = null;

  function status(text) { $('status').textContent = text; }

  /* The parts of the page made from the webinar that depend on the language (dates, durations). */
  function renderFacts() {
    const w = webinar;
    $('title').textContent = w.title;
    document.title = w.title + ' — lectern';
    $('when').textContent = w.on_demand ? t('onDemand')
      : w.starts_at ? lcText.dateTime(w.starts_at) : t('noDate');
    $('duration').textContent = lcText.duration(w.duration_s);
  }

  function renderWebinar() {
    const w = webinar;
    renderFacts();
    const names = w.presenters || [];
    $('presenters').textContent = names.join(', ');
    $('presenters').hidden = $('presenters-label').hidden = names.length === 0;
    $('description').textContent = w.description || '';
    $('watch-link').href = w.watch_url;
    $('public-note').hidden = w.access !== 'public';
    $('about').hidden = false;
    const reg = w.registration;
    renderTexts();
    $('custom').replaceChildren(...reg.fields.map(customField));
    lcText.apply($('custom'));
  }

  /* The privacy notice and the consent text. The server's default texts come in both
   * languages; an organiser's own come in theirs. */
  function renderTexts() {
    const reg = webinar.registration;
    $('privacy').textContent = reg.privacy_notice_i18n?.[lcText.lang] || reg.privacy_notice;
    $('consent-text').textContent = reg.consent_text_i18n?.[lcText.lang] || reg.consent_text;
  }

  /* One of the organiser's fields: text, email, select or checkbox; "(optional)" when it is. */
  function customField(f) {
    const id = 'f-' + f.id;
    const label = el('label', { for: id }, f.label,
      f.required ? null : [' ', el('span', { class: 'muted', 'data-i18n': 'optional' })]);
    const common = { id, name: id, 'aria-required': f.required ? 'true' : null };
    if (f.type === 'checkbox')
      return el('div', { class: 'field check' }, el('input', { ...common, type: 'checkbox' }), label);
    let control;
    if (f.type === 'select') {
      control = el('select', common, el('option', { value: '', 'data-i18n': 'choose' }),
        f.options.map((o) => el('option', { value: o, text: o })));
    } else {
      control = el('input', { ...common, type: f.type === 'email' ? 'email' : 'text',
        maxlength: 1000, autocomplete: f.type === 'email' ? 'email' : null });
    }
    return el('div', { class: 'field' }, label, control);
  }

  /* The control an API error's `field` names ("email", "consent", "fields.company"). */
  function controlOf(field) {
    if (!field) return null;
    if (field.startsWith('fields.')) return $('f-' + field.slice(7));
    return { email: $('email'), name: $('name'), consent: $('consent') }[field] || null;
  }

  /* A message for an API error in the page's language where the code says enough. */
  function messageOf(err, control) {
    if (err.code === 'consent_required') return t('err.consent');
    if (err.code === 'missing_field')
      return control && control.type === 'checkbox' ? t('err.tick') : t('err.required');
    if (err.code === 'invalid_field' && control && control.type === 'email') return t('err.email');
    return err.message;
  }

  /* What the browser can check before sending: required fields filled, boxes ticked. */
  function checkLocally() {
    const problems = [];
    const need = (c, key) => problems.push([c, t(key)]);
    if (!$('name').value.trim()) need($('name'), 'err.required');
    if (!$('email').value.trim()) need($('email'), 'err.required');
    for (const f of webinar.registration.fields) {
      const c = $('f-' + f.id);
      if (!f.required) continue;
      if (f.type === 'checkbox' ? !c.checked : !c.value.trim())
        need(c, f.type === 'checkbox' ? 'err.tick' : 'err.required');
    }
    if (!$('consent').checked) need($('consent'), 'err.consent');
    for (const [c, msg] of problems) fieldError(c, msg);
    if (problems.length) problems[0][0].focus();
    return problems.length === 0;
  }

  /* Text from the page's address for the organiser's statistics: no control characters, cut to
   * what the server takes; the referrer without query or fragment (they can carry personal
   * data the server would not keep anyway). */
  function source() {
    const q = new URLSearchParams(location.search);
    const clean = (s, max) => {
      const v = Array.from((s || '').replace(/[\u0000-\u001f\u007f]/g, '')).slice(0, max).join('');
      return v || null;
    };
    return { utm_source: clean(q.get('utm_source'), 200),
      utm_medium: clean(q.get('utm_medium'), 200),
      utm_campaign: clean(q.get('utm_campaign'), 200),
      referrer: clean(document.referrer.split(/[?#]/)[0], 2000) };
  }

  function answers() {
    const out = {};
    for (const f of webinar.registration.fields) {
      const c = $('f-' + f.id);
      if (f.type === 'checkbox') out[f.id] = c.checked;
      else if (c.value.trim()) out[f.id] = c.value.trim();
    }
    return out;
  }

  function showDone(r) {
    form.hidden = true;
    $('join-url').value = r.join_url;
    $('join-link').href = r.join_url;
    $('calendar').hidden = !r.calendar_url;
    if (r.calendar_url) $('calendar').href = r.calendar_url;
    $('approval-note').hidden = !r.approval_required;
    $('done').hidden = false;
    status(t('reg.doneStatus'));
    $('done').focus();
  }

  function offerReload(text) {
    status(text);
    $('status').append(' ', el('button', { type: 'button', 'data-i18n': 'reload',
      text: t('reload'), onclick: () => location.reload() }));
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    status('');
    if (!checkLocally()) return;
    const body = { email: $('email').value.trim(), name: $('name').value.trim(),
      fields: answers(), consent: true,
      consent_version: webinar.registration.consent_version, ...source() };
    $('submit').disabled = true;
    status(t('sending'));
    try {
      // Registering again is safe (the same address keeps its one registration), so an answer
      // that does not come within 15 s is asked for once more before giving up.
      const post = () => request('POST', '/api/webinars/' + encodeURIComponent(slug) +
        '/registrations', body, { timeoutMs: 15000 });
      const r = await post().catch(post);
      const err = r.data && r.data.error;
      if (r.status === 201) {
        showDone(r.data);
      } else if (err && err.code === 'consent_changed') {
        offerReload(t('reg.consentChanged'));
      } else if (err && err.code === 'registration_closed') {
        status(t('reg.closed'));
      } else if (r.status === 429 || r.status === 503) {
        status(t('busy'));
      } else if (err && controlOf(err.field)) {
        const c = controlOf(err.field);
        fieldError(c, messageOf(err, c));
        c.focus();
        status(t('reg.fix'));
      } else {
        status(err ? err.message : t('httpError', { status: r.status }));
      }
    } catch (e) {
      status(t('offline'));
    } finally {
      $('submit').disabled = false;
    }
  });

  $('copy').addEventListener('click', async () => {
    const ok = await lcUI.copy($('join-url').value, $('join-url'));
    $('copy-status').textContent = t(ok ? 'copied' : 'copyManual');
  });

  lcText.mountSwitch($('lang'), () => { if (webinar) { renderFacts(); renderTexts(); } });

  async function load() {
    $('title').textContent = t('loading');
    let r;
    try {
      r = await request('GET', '/api/webinars/' + encodeURIComponent(slug));
    } catch (e) {
      offerReload(t('offline'));
      return;
    }
    if (r.status === 404) {
      $('title').textContent = t('reg.notFound');
      status(t('reg.notFoundText'));
      return;
    }
    if (r.status !== 200) {
      offerReload(t('httpError', { status: r.status }));
      return;
    }
    webinar = r.data;
    renderWebinar();
    if (webinar.state === 'ended' && !webinar.replay_enabled && webinar.live !== 'running') {
      status(t('reg.closed'));
      return;
    }
    form.hidden = false;
  }
  load();
})();
