// The organiser pages (/admin, /admin/...): one page that draws a view per address — the
// webinar list, creating and editing a webinar (with the registration form's fields), the
// stream key, a webinar's registrations (approve or reject many at once, exports), its waiting
// room, data-subject requests and the audit log. Every change is JSON with X-CSRF-Token.
'use strict';

(function () {
  const { t } = lcText;
  const { el, request, fieldError, clearErrors } = lcUI;
  const $ = (id) => document.getElementById(id);
  const here = () => location.pathname + location.search;
  const view = $('view');
  const PAGE = 50;
  let routeGen = 0;
  let cleanups = [];
  let shownKey = null; // { id, stream_key }: a new webinar's key, shown once on its page

  /* ---- small builders ------------------------------------------------------------------- */

  /* An element whose text is the translation of `key` (and follows the language switch). */
  function tx(tag, key, attrs, ...children) {
    return el(tag, { ...attrs, 'data-i18n': key, text: t(key) }, ...children);
  }

  function button(key, onclick, attrs) {
    return tx('button', key, { type: 'button', onclick, ...attrs });
  }

  function link(key, href, attrs) {
    return tx('a', key, { href, 'data-route': href.startsWith('/admin') ? '' : null, ...attrs });
  }

  /* A labelled control in a .field wrapper; `hint` (a key) becomes its description. */
  function field(key, control, hint) {
    const hintEl = hint ? tx('p', hint, { id: control.id + '-hint', class: 'hint' }) : null;
    if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
    const checkbox = control.type === 'checkbox';
    const label = tx('label', key, { for: control.id });
    return el('div', { class: checkbox ? 'field check' : 'field' },
      checkbox ? [control, label] : [label, control], hintEl);
  }

  function heading(text) {
    return el('h1', { tabindex: '-1', text });
  }

  /* A table that scrolls sideways on small screens. head: keys of the column titles (or
   * nodes); rows: arrays of cells (nodes or text). */
  function table(head, rows, caption) {
    return el('div', { class: 'table-wrap', tabindex: '0', role: 'region',
      'aria-label': caption },
    el('table', {},
      el('thead', {}, el('tr', {}, head.map((h) => (typeof h === 'string'
        ? tx('th', h, { scope: 'col' }) : el('th', { scope: 'col' }, h))))),
      el('tbody', {}, rows.map((cells) => el('tr', {}, cells.map((c) => el('td', {}, c)))))));
  }

  function status(text) { $('status').textContent = text || ''; }

  function when(iso) { return iso ? lcText.dateTime(iso) : '—'; }

  /* ---- requests ------------------------------------------------------------------------- */

  function toLogin() {
    location.assign('/login?next=' + encodeURIComponent(here()));
  }

  /* A request of the organiser's session; a 401 (the session ended) goes to the login page. */
  async function call(method, url, body) {
    const r = await request(method, url, body);
    if (r.status === 401) {
      toLogin();
      throw Object.assign(new Error('not logged in'), { handled: true });
    }
    return r;
  }

  function apiError(r) {
    const err = r.data && r.data.error;
    if (r.status === 503 || r.status === 429) return t('busy');
    return err ? err.message : t('httpError', { status: r.status });
  }

  /* GET that must answer 200: the data, or null after showing why not. */
  async function load(url) {
    const r = await call('GET', url);
    if (r.status === 200) return r.data;
    status(r.status === 404 ? t('adm.notFound') : apiError(r));
    return null;
  }

  const webinarUrl = (id) => '/api/admin/webinars/' + encodeURIComponent(id);

  /* ---- routing -------------------------------------------------------------------------- */

  /* The organiser's pages: /admin, /admin/new, /admin/{id}[?view=registrations|waiting],
   * /admin/data-subject, /admin/audit (the server serves this page for /admin/{one segment}). */
  const pageOf = (id, view) => '/admin/' + id + (view ? '?view=' + view : '');
  const consoleOf = (id) => '/console/' + id; // a page of its own (console.js)

  function resolve() {
    const path = location.pathname.replace(/\/+$/, '');
    const fixed = { '/admin': viewList, '/admin/new': (_, box) => viewEdit(null, box),
      '/admin/data-subject': viewDataSubject, '/admin/audit': viewAudit };
    if (fixed[path]) return [fixed[path], null];
    const m = /^\/admin\/(\d+)$/.exec(path);
    const views = { registrations: viewRegistrations, waiting: viewWaiting };
    return m ? [views[new URLSearchParams(location.search).get('view')] || viewEdit, m[1]]
      : null;
  }

  /* Runs fn when the view is left (timers); at once if it was left already. */
  function onLeave(gen, fn) {
    if (gen === routeGen) cleanups.push(fn);
    else fn();
  }

  async function route(focus) {
    const gen = ++routeGen;
    for (const fn of cleanups) fn();
    cleanups = [];
    status('');
    // Each view draws into its own box: one that was left while it waited for an answer draws
    // into a box that is no longer on the page.
    const box = el('div');
    view.replaceChildren(box);
    const match = resolve();
    try {
      if (!match) {
        box.append(heading(t('adm.notFound')));
      } else {
        await match[0](match[1], box, gen);
      }
    } catch (e) {
      if (!e.handled && gen === routeGen) status(t('offline'));
    }
    for (const a of document.querySelectorAll('.nav a'))
      a.toggleAttribute('aria-current', a.getAttribute('href') === here());
    const h1 = view.querySelector('h1');
    if (focus && h1 && gen === routeGen) h1.focus();
  }

  function go(path) {
    history.pushState(null, '', path);
    route(true);
  }

  document.addEventListener('click', (ev) => {
    const a = ev.target.closest('a[data-route]');
    if (!a || ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey) return;
    ev.preventDefault();
    go(a.getAttribute('href'));
  });
  window.addEventListener('popstate', () => route(true));

  /* The links between one webinar's views. */
  function subnav(w, current) {
    const links = [['adm.settings', pageOf(w.id)],
      ['adm.registrations', pageOf(w.id, 'registrations')],
      ['adm.waiting', pageOf(w.id, 'waiting')]];
    return el('nav', { class: 'subnav', 'aria-label': w.title },
      links.map(([key, href]) => link(key, href,
        { 'aria-current': href === current ? 'page' : null })),
      link('adm.console', consoleOf(w.id)),
      link('adm.regPage', '/w/' + w.slug, { target: '_blank', rel: 'noopener' }));
  }

  /* ---- the webinar list ----------------------------------------------------------------- */

  async function viewList(_id, box) {
    box.append(tx('h1', 'adm.webinars', { tabindex: '-1' }),
      el('p', {}, link('adm.new', '/admin/new', { class: 'button' })));
    const data = await load('/api/admin/webinars');
    if (!data) return;
    if (!data.webinars.length) return box.append(tx('p', 'adm.none'));
    box.append(table(['adm.title', 'adm.startsAt', 'adm.state', 'adm.access', ''],
      data.webinars.map((w) => [
        el('a', { href: pageOf(w.id), 'data-route': '', text: w.title }),
        w.on_demand ? tx('span', 'onDemand') : when(w.starts_at),
        tx('span', 'state.' + w.state),
        tx('span', 'access.' + w.access),
        el('span', { class: 'links' },
          link('adm.registrations', pageOf(w.id, 'registrations')), ' ',
          link('adm.waiting', pageOf(w.id, 'waiting')), ' ',
          link('adm.console', consoleOf(w.id), { 'aria-label': t('adm.consoleOf',
            { title: w.title }) })),
      ]), t('adm.webinars')));
  }

  /* ---- the registration form's fields ---------------------------------------------------- */

  let builderSeq = 0;

  /* An id for a field from its label: a-z, 0-9 and _, at most 32, never "name" or "email". */
  function idFromLabel(label) {
    const s = label.toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
      .replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 30) || 'field';
    return s === 'name' || s === 'email' ? s + '_2' : s;
  }

  /* The editor of form_fields: a list of rows (label, id, type, required, options) that can be
   * added, moved and removed by keyboard. read() gives the array for the API. */
  function formBuilder(fields) {
    const list = el('ol', { class: 'builder' });
    const rows = [];

    function move(row, by) {
      const i = rows.indexOf(row), j = i + by;
      if (j < 0 || j >= rows.length) return;
      rows.splice(i, 1);
      rows.splice(j, 0, row);
      list.replaceChildren(...rows.map((r) => r.li));
      row.li.querySelector('input').focus();
    }

    function addRow(f) {
      const n = ++builderSeq;
      const label = el('input', { id: 'ff-label-' + n, type: 'text', maxlength: 200,
        value: f.label || '' });
      const id = el('input', { id: 'ff-id-' + n, type: 'text', maxlength: 32,
        value: f.id || '', pattern: '[a-z0-9_]+' });
      const type = el('select', { id: 'ff-type-' + n },
        ['text', 'email', 'select', 'checkbox'].map((v) => tx('option', 'ftype.' + v,
          { value: v, selected: v === (f.type || 'text') })));
      const required = el('input', { id: 'ff-req-' + n, type: 'checkbox', checked: !!f.required });
      const options = el('textarea', { id: 'ff-opt-' + n, rows: 3,
        value: (f.options || []).join('\n') });
      const optionsField = field('adm.fieldOptions', options);
      let idTouched = !!f.id;
      id.addEventListener('input', () => { idTouched = true; });
      label.addEventListener('input', () => { if (!idTouched) id.value = idFromLabel(label.value); });
      const showOptions = () => { optionsField.hidden = type.value !== 'select'; };
      type.addEventListener('change', showOptions);
      showOptions();
      const row = { li: null, read: () => {
        const out = { id: id.value.trim(), label: label.value.trim(), type: type.value,
          required: required.checked };
        if (type.value === 'select')
          out.options = options.value.split('\n').map((s) => s.trim()).filter(Boolean);
        return out;
      } };
      // The row's buttons say which field they act on ("Remove field Company").
      const actions = [];
      const action = (key, fn) => {
        const b = button(key, fn, { class: 'small' });
        actions.push([b, key + 'Named']);
        return b;
      };
      const name = () => {
        for (const [b, key] of actions) b.setAttribute('aria-label', t(key, { label: label.value }));
      };
      label.addEventListener('input', name);
      row.li = el('li', { class: 'builder-row' },
        el('div', { class: 'grid' }, field('adm.fieldLabel', label),
          field('adm.fieldId', id, 'adm.fieldIdHint'), field('adm.fieldType', type),
          field('adm.fieldRequired', required)),
        optionsField,
        el('p', { class: 'row-actions' },
          action('adm.up', () => move(row, -1)), ' ',
          action('adm.down', () => move(row, 1)), ' ',
          action('adm.remove', () => {
            rows.splice(rows.indexOf(row), 1);
            row.li.remove();
            addButton.focus();
          })));
      name();
      rows.push(row);
      list.append(row.li);
      return row;
    }

    const addButton = button('adm.addField', () => addRow({}).li.querySelector('input').focus());
    for (const f of fields) addRow(f);
    const root = el('fieldset', { id: 'w-form_fields', class: 'field', tabindex: '-1' },
      tx('legend', 'adm.formFields'), tx('p', 'adm.formFieldsHint', { class: 'hint' }),
      list, el('p', {}, addButton));
    return { root, read: () => rows.map((r) => r.read()) };
  }

  /* ---- creating and editing a webinar ---------------------------------------------------- */

  const pad = (n) => String(n).padStart(2, '0');

  /* UTC ISO time → the value of an <input type="datetime-local"> in the viewer's zone. */
  function toLocalInput(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
      `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  function input(name, attrs) {
    return el('input', { id: 'w-' + name, name, type: 'text', ...attrs });
  }

  function textarea(name, value, rows) {
    return el('textarea', { id: 'w-' + name, name, rows, value: value || '' });
  }

  function checkbox(name, checked) {
    return input(name, { type: 'checkbox', checked: !!checked });
  }

  /* The settings form, filled from `w` (or the defaults). read() gives every member as the API
   * takes it; the room password is separate (it is never read back). */
  function webinarForm(w) {
    const c = {
      title: input('title', { maxlength: 200, value: w.title || '', 'aria-required': 'true' }),
      description: textarea('description', w.description, 5),
      starts_at: input('starts_at', { type: 'datetime-local', value: toLocalInput(w.starts_at) }),
      duration: input('duration_s', { type: 'number', min: 1, max: 1440, step: 1,
        value: Math.round((w.duration_s || 3600) / 60) }),
      presenters: textarea('presenters', (w.presenters || []).join('\n'), 3),
      on_demand: checkbox('on_demand', w.on_demand),
      access: el('select', { id: 'w-access', name: 'access' },
        ['registration', 'public'].map((v) => tx('option', 'access.' + v,
          { value: v, selected: v === (w.access || 'registration') }))),
      waiting_room: checkbox('waiting_room', w.waiting_room),
      approval: checkbox('approval', w.approval),
      room_password: input('room_password', { type: 'password', autocomplete: 'new-password',
        maxlength: 128 }),
      no_password: checkbox('no_password', false),
      hide_attendee_names: checkbox('hide_attendee_names', w.hide_attendee_names !== false),
      questions_public: checkbox('questions_public', w.questions_public),
      chat_enabled: checkbox('chat_enabled', w.chat_enabled),
      privacy_notice: textarea('privacy_notice', w.privacy_notice, 6),
      consent_text: textarea('consent_text', w.consent_text, 3),
      consent_version: input('consent_version', { maxlength: 40,
        value: w.consent_version || '1' }),
      replay_enabled: checkbox('replay_enabled', w.replay_enabled !== false),
      replay_requires_registration: checkbox('replay_requires_registration',
        w.replay_requires_registration !== false),
      retention_days: input('retention_days', { type: 'number', min: 1, max: 3650,
        value: w.retention_days || 90 }),
      recording_retention_days: input('recording_retention_days', { type: 'number', min: 1,
        max: 3650, value: w.recording_retention_days || '' }),
    };
    const builder = formBuilder(w.form_fields || []);
    const zone = el('p', { class: 'hint', id: 'w-starts_at-hint',
      text: t('adm.zone', { zone: lcText.timeZone() }) });
    c.starts_at.setAttribute('aria-describedby', zone.id);
    // A public webinar has nobody registered to approve or hold in a waiting room.
    const dependent = () => {
      const pub = c.access.value === 'public';
      for (const k of ['waiting_room', 'approval']) {
        if (pub) c[k].checked = false;
        c[k].disabled = pub;
      }
      c.starts_at.disabled = c.on_demand.checked;
    };
    c.access.addEventListener('change', dependent);
    c.on_demand.addEventListener('change', dependent);
    dependent();
    const section = (key, ...children) => el('fieldset', {}, tx('legend', key), ...children);
    const root = el('div', {},
      section('adm.basics', field('adm.title', c.title), field('adm.description', c.description),
        el('div', { class: 'field' }, tx('label', 'adm.startsAt', { for: 'w-starts_at' }),
          c.starts_at, zone),
        field('adm.durationMin', c.duration), field('adm.presenters', c.presenters,
          'adm.presentersHint'),
        field('adm.onDemand', c.on_demand)),
      section('adm.accessSection', field('adm.access', c.access),
        field('adm.waitingRoom', c.waiting_room), field('adm.approval', c.approval),
        field(w.password_required ? 'adm.newRoomPassword' : 'adm.roomPassword',
          c.room_password, 'adm.roomPasswordHint'),
        w.password_required ? field('adm.noPassword', c.no_password) : null,
        field('adm.hideNames', c.hide_attendee_names)),
      section('con.interaction', field('set.questionsPublic', c.questions_public),
        field('set.chatEnabled', c.chat_enabled)),
      builder.root,
      section('adm.privacySection',
        field('adm.privacyNotice', c.privacy_notice, 'adm.defaultHint'),
        field('adm.consentText', c.consent_text, 'adm.defaultHint'),
        field('adm.consentVersion', c.consent_version, 'adm.consentVersionHint')),
      section('adm.replaySection', field('adm.replayEnabled', c.replay_enabled),
        field('adm.replayNeedsReg', c.replay_requires_registration),
        field('adm.retention', c.retention_days),
        field('adm.recordingRetention', c.recording_retention_days, 'adm.keepHint')));
    const int = (v) => (v.trim() === '' ? NaN : Number(v));
    const orNull = (s) => (s.trim() ? s : null);
    function read() {
      return {
        title: c.title.value.trim(),
        description: c.description.value,
        starts_at: c.on_demand.checked || !c.starts_at.value ? null
          : new Date(c.starts_at.value).toISOString(),
        duration_s: Math.round(int(c.duration.value) * 60),
        presenters: c.presenters.value.split('\n').map((s) => s.trim()).filter(Boolean),
        on_demand: c.on_demand.checked,
        access: c.access.value,
        waiting_room: c.waiting_room.checked,
        approval: c.approval.checked,
        hide_attendee_names: c.hide_attendee_names.checked,
        questions_public: c.questions_public.checked,
        chat_enabled: c.chat_enabled.checked,
        form_fields: builder.read(),
        privacy_notice: orNull(c.privacy_notice.value),
        consent_text: orNull(c.consent_text.value),
        consent_version: c.consent_version.value.trim(),
        replay_enabled: c.replay_enabled.checked,
        replay_requires_registration: c.replay_requires_registration.checked,
        retention_days: int(c.retention_days.value),
        recording_retention_days: c.recording_retention_days.value.trim() === '' ? null
          : int(c.recording_retention_days.value),
      };
    }
    /* {room_password} to send: a new one, null to remove it, or nothing. */
    function password() {
      if (c.room_password.value) return { room_password: c.room_password.value };
      return c.no_password.checked ? { room_password: null } : {};
    }
    /* The control an API error's field names. */
    function control(name) {
      if (name === 'duration_s') return c.duration;
      if (name === 'form_fields') return builder.root;
      return c[name] || null;
    }
    return { root, read, password, control };
  }

  /* The stream key panel: shown once, after creating or replacing the key. */
  function keyPanel(w, key) {
    const row = (labelKey, value, id) => {
      const out = el('input', { id, type: 'text', readonly: true, value, class: 'mono' });
      return el('div', { class: 'field' }, tx('label', labelKey, { for: id }),
        el('div', { class: 'copy-row' }, out,
          button('copy', async () => {
            const ok = await lcUI.copy(value, out);
            status(t(ok ? 'copied' : 'copyManual'));
          })));
    };
    return el('section', { class: 'key-panel', id: 'key-panel', tabindex: '-1',
      'aria-labelledby': 'key-heading' },
    tx('h2', 'adm.keyHeading', { id: 'key-heading' }), tx('p', 'adm.keyOnce'),
    row('adm.rtmpServer', w.rtmp_url, 'key-server'),
    row('adm.streamKey', key, 'key-value'),
    tx('p', 'adm.obsHint', { class: 'hint' }));
  }

  /* The members of `now` that differ from `before` (JSON comparison). */
  function changed(before, now) {
    const out = {};
    for (const k of Object.keys(now))
      if (JSON.stringify(now[k]) !== JSON.stringify(before[k])) out[k] = now[k];
    return out;
  }

  /* Shows an API refusal next to the field it names, or in the status line. */
  function showRefusal(form, r) {
    const err = r.data && r.data.error;
    const c = err && err.field && form.control(err.field);
    if (c) {
      fieldError(c, err.message);
      c.focus();
      status(t('adm.fix'));
    } else if (err && err.code === 'edit_conflict') {
      status(t('adm.conflict'));
      $('status').append(' ', button('reload', () => route(false)));
    } else {
      status(apiError(r));
    }
  }

  async function viewEdit(id, box) {
    const w = id ? await load(webinarUrl(id)) : {};
    if (!w) return;
    box.append(id ? heading(w.title) : tx('h1', 'adm.new', { tabindex: '-1' }));
    if (id) box.append(subnav(w, here()));
    if (id && shownKey && shownKey.id === w.id) {
      box.append(keyPanel(w, shownKey.stream_key));
      shownKey = null;
    }
    const form = webinarForm(w);
    const save = tx('button', id ? 'adm.save' : 'adm.create', { type: 'submit' });
    const formEl = el('form', { class: 'form wide', novalidate: true }, form.root,
      el('p', {}, save));
    const initial = form.read();
    formEl.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(formEl);
      const body = id ? { ...changed(initial, form.read()), ...form.password() }
        : { ...form.read(), ...form.password() };
      if (id && !Object.keys(body).length) return status(t('adm.unchanged'));
      save.disabled = true;
      status(t('sending'));
      try {
        const r = await call(id ? 'PATCH' : 'POST', id ? webinarUrl(id) : '/api/admin/webinars',
          body);
        if (r.status === 201) {
          shownKey = { id: r.data.id, stream_key: r.data.stream_key };
          go(pageOf(r.data.id));
          status(t('adm.created'));
        } else if (r.status === 200) {
          await route(false);
          status(t('adm.saved'));
        } else {
          showRefusal(form, r);
        }
      } finally {
        save.disabled = false;
      }
    });
    box.append(formEl);
    if (id) box.append(streamSection(w), deleteSection(w));
  }

  function streamSection(w) {
    const holder = el('div');
    return el('section', { class: 'panel' }, tx('h2', 'adm.stream'),
      el('p', {}, tx('span', 'adm.rtmpServer'), ': ', el('code', { text: w.rtmp_url })),
      el('p', {}, button('adm.rotate', async () => {
        if (!confirm(t('adm.rotateConfirm'))) return;
        const r = await call('POST', webinarUrl(w.id) + '/stream-key');
        if (r.status !== 200) return status(apiError(r));
        holder.replaceChildren(keyPanel(r.data, r.data.stream_key));
        $('key-panel').focus();
      })), holder);
  }

  function deleteSection(w) {
    return el('section', { class: 'panel danger' }, tx('h2', 'adm.delete'),
      el('p', {}, button('adm.deleteButton', async () => {
        if (!confirm(t('adm.deleteConfirm', { title: w.title }))) return;
        const r = await call('DELETE', webinarUrl(w.id));
        if (r.status !== 204) return status(r.status === 409 ? t('adm.deleteLive') : apiError(r));
        go('/admin');
        status(t('adm.deleted'));
      }, { class: 'danger' })));
  }

  /* ---- registrations ---------------------------------------------------------------------- */

  /* The answers to the form's fields as one line ("Company: ACME; Newsletter: yes"). */
  function answersText(w, fields) {
    const labels = Object.fromEntries((w.form_fields || []).map((f) => [f.id, f.label]));
    return Object.entries(fields || {}).map(([k, v]) => (labels[k] || k) + ': ' +
      (v === true ? t('yes') : v === false ? t('no') : v)).join('; ');
  }

  function sourceText(s) {
    return [s.utm_source, s.utm_medium, s.utm_campaign, s.referrer].filter(Boolean).join(' / ');
  }

  async function viewRegistrations(id, box, gen) {
    const w = await load(webinarUrl(id));
    if (!w) return;
    const base = webinarUrl(id) + '/registrations';
    const filter = el('select', { id: 'reg-state' },
      ['', 'pending', 'approved', 'rejected'].map((v) => tx('option', v ? 'reg.' + v : 'all',
        { value: v })));
    const counts = el('p', { id: 'reg-counts', class: 'muted' });
    const holder = el('div');
    const pager = el('p', { class: 'pager' });
    const selected = new Set();
    const selectedCount = el('span', { id: 'reg-selected', 'aria-live': 'polite' });
    const approve = button('adm.approve', () => decide('approve'), { disabled: true });
    const reject = button('adm.reject', () => decide('reject'), { disabled: true });
    const cursors = [0]; // the `after` of each page seen, for "previous"
    box.append(heading(t('adm.registrationsOf', { title: w.title })),
      subnav(w, here()), counts,
      el('div', { class: 'toolbar' }, field('adm.filter', filter),
        el('p', { class: 'exports' }, tx('span', 'adm.export'), ' ',
          el('a', { href: base + '.csv', download: '', text: 'CSV' }), ' ',
          el('a', { href: base + '.json', download: '', text: 'JSON' }))),
      el('p', { class: 'toolbar' }, approve, ' ', reject, ' ', selectedCount),
      holder, pager);

    function updateSelection() {
      selectedCount.textContent = selected.size ? t('adm.selected', { n: selected.size }) : '';
      approve.disabled = reject.disabled = selected.size === 0;
    }

    async function show() {
      const after = cursors[cursors.length - 1];
      const q = new URLSearchParams({ limit: PAGE });
      if (after) q.set('after', after);
      if (filter.value) q.set('state', filter.value);
      const data = await load(base + '?' + q);
      if (!data || gen !== routeGen) return;
      selected.clear();
      updateSelection();
      counts.textContent = t('adm.counts', data.counts);
      const boxes = [];
      const all = el('input', { type: 'checkbox', id: 'reg-all', 'aria-label': t('adm.selectAll'),
        onchange: () => {
          for (const b of boxes) { b.checked = all.checked; b.dispatchEvent(new Event('change')); }
        } });
      const rows = data.registrations.map((r) => {
        const box = el('input', { type: 'checkbox', class: 'reg-select', value: r.id,
          'aria-label': t('adm.select', { name: r.name }),
          onchange: () => { if (box.checked) selected.add(r.id); else selected.delete(r.id);
            updateSelection(); } });
        boxes.push(box);
        return [box, r.name, r.email, tx('span', 'reg.' + r.state), when(r.registered_at),
          answersText(w, r.fields), sourceText(r.source), String(r.attendance.minutes_live),
          String(r.attendance.minutes_replay)];
      });
      holder.replaceChildren(rows.length ? table([all, 'adm.name', 'adm.email', 'adm.state',
        'adm.registered', 'adm.answers', 'adm.source', 'adm.minLive', 'adm.minReplay'], rows,
      t('adm.registrations')) : tx('p', 'adm.noRegistrations'));
      pager.replaceChildren(
        cursors.length > 1 ? button('adm.prev', () => { cursors.pop(); show(); }) : '', ' ',
        data.next ? button('adm.next', () => { cursors.push(data.next); show(); }) : '');
    }

    async function decide(decision) {
      const ids = [...selected];
      const r = await call('POST', base + '/decision', { ids, decision });
      if (r.status !== 200) return status(apiError(r));
      status(t(decision === 'approve' ? 'adm.approved' : 'adm.rejected', { n: r.data.changed }));
      await show();
    }

    filter.addEventListener('change', () => { cursors.splice(1); show(); });
    await show();
  }

  /* ---- the waiting room ------------------------------------------------------------------- */

  async function viewWaiting(id, box, gen) {
    const w = await load(webinarUrl(id));
    if (!w) return;
    const url = webinarUrl(id) + '/waiting';
    const admission = webinarUrl(id) + '/admission';
    const off = tx('p', 'adm.waitingOff', { class: 'notice', hidden: true });
    const count = el('p', { id: 'waiting-count', 'aria-live': 'polite' });
    const holder = el('div');
    const everyone = el('input', { id: 'admit-everyone', type: 'checkbox' });
    const admitAll = button('adm.admitAll', () => admit({ all: true }), { id: 'admit-all' });
    box.append(heading(t('adm.waitingOf', { title: w.title })), subnav(w, here()),
      off, el('div', { class: 'toolbar' }, field('adm.admitEveryone', everyone),
        el('p', {}, admitAll)), count, holder);
    let shown = null; // the last list drawn, to keep focus when nothing changed

    async function admit(body) {
      const r = await call('POST', admission, body);
      if (r.status !== 200) return status(apiError(r));
      if ('admit_all' in body) status(t(body.admit_all ? 'adm.everyoneOn' : 'adm.everyoneOff'));
      else status(t('adm.admitted', { n: r.data.admitted }));
      await refresh();
    }

    everyone.addEventListener('change', () => admit({ admit_all: everyone.checked }));

    async function refresh() {
      const r = await call('GET', url);
      if (gen !== routeGen) return;
      if (r.status !== 200) return status(apiError(r));
      const d = r.data;
      off.hidden = d.waiting_room;
      if (document.activeElement !== everyone) everyone.checked = d.admit_all;
      const key = JSON.stringify(d.waiting);
      if (key === shown) return;
      shown = key;
      count.textContent = t('adm.waitingCount', { n: d.waiting.length });
      admitAll.disabled = d.waiting.length === 0;
      holder.replaceChildren(d.waiting.length ? table(['adm.name', 'adm.email', ''],
        d.waiting.map((p) => [p.name, p.email, el('button', { type: 'button',
          class: 'admit', text: t('adm.admit'),
          'aria-label': t('adm.admitNamed', { name: p.name }),
          onclick: () => admit({ ids: [p.id] }) })]), t('adm.waiting')) : '');
    }

    await refresh();
    // While this view is open the list follows who arrives and leaves.
    const timer = setInterval(() => refresh().catch(() => {}), 2000);
    onLeave(gen, () => clearInterval(timer));
  }

  /* ---- data-subject requests -------------------------------------------------------------- */

  /* "a.b: 3" lines from a JSON answer's numbers and strings (nested objects flattened). */
  function flatten(o, prefix = '') {
    return Object.entries(o || {}).flatMap(([k, v]) => (v && typeof v === 'object' &&
      !Array.isArray(v) ? flatten(v, prefix + k + '.') : [[prefix + k, JSON.stringify(v)]]));
  }

  async function viewDataSubject(_id, box) {
    const email = el('input', { id: 'ds-email', type: 'email', autocomplete: 'off',
      maxlength: 254 });
    const out = el('div', { id: 'ds-result', 'aria-live': 'polite' });
    const form = el('form', { class: 'form', novalidate: true },
      field('adm.subjectEmail', email, 'adm.subjectHint'),
      el('p', {}, tx('button', 'adm.showData', { type: 'submit', id: 'ds-access' }), ' ',
        button('adm.erase', () => ask('erasure'), { id: 'ds-erase', class: 'danger' })));
    box.append(tx('h1', 'adm.subjects', { tabindex: '-1' }), form, out);

    async function ask(kind) {
      clearErrors(form);
      const addr = email.value.trim();
      if (!addr) return fieldError(email, t('err.required'));
      if (kind === 'erasure' && !confirm(t('adm.eraseConfirm', { email: addr }))) return;
      const r = await call('POST', '/api/admin/data-subject/' + kind, { email: addr });
      if (r.status !== 200) {
        const err = r.data && r.data.error;
        if (err && err.field === 'email') return fieldError(email, err.message);
        return status(apiError(r));
      }
      status(t(kind === 'erasure' ? 'adm.erased' : 'adm.accessDone'));
      out.replaceChildren(kind === 'erasure'
        ? el('dl', { class: 'counts' }, flatten(r.data).map(([k, v]) =>
          [el('dt', { text: k }), el('dd', { text: v })]))
        : el('pre', { class: 'json', tabindex: '0', text: JSON.stringify(r.data, null, 2) }));
    }
    form.addEventListener('submit', (ev) => { ev.preventDefault(); ask('access'); });
  }

  /* ---- the audit log ---------------------------------------------------------------------- */

  async function viewAudit(_id, box, gen) {
    const holder = el('div');
    const pager = el('p', { class: 'pager' });
    box.append(tx('h1', 'adm.audit', { tabindex: '-1' }), tx('p', 'adm.auditHint'), holder,
      pager);
    const cursors = [0];
    async function show() {
      // Newest first; `next` is where the following (older) page starts.
      const before = cursors[cursors.length - 1];
      const data = await load('/api/admin/audit' + (before ? '?before=' + before : ''));
      if (!data || gen !== routeGen) return;
      const entries = data.entries || Object.values(data).find(Array.isArray) || [];
      holder.replaceChildren(table(['adm.when', 'adm.who', 'adm.action', 'adm.webinar',
        'adm.records', 'adm.subject'], entries.map((e) => [when(e.at), e.user?.email || '—',
        e.action, e.webinar_id ? String(e.webinar_id) : '—', String(e.records ?? ''),
        e.subject ? String(e.subject).slice(0, 12) + '…' : '—']), t('adm.audit')));
      pager.replaceChildren(
        cursors.length > 1 ? button('adm.prev', () => { cursors.pop(); show(); }) : '', ' ',
        data.next ? button('adm.next', () => { cursors.push(data.next); show(); }) : '');
    }
    await show();
  }

  /* ---- start ------------------------------------------------------------------------------ */

  $('logout').addEventListener('click', async () => {
    await request('POST', '/api/logout').catch(() => null);
    location.assign('/login');
  });

  lcText.mountSwitch($('lang'), () => {
    // Forms keep what was typed (their texts follow by data-i18n); lists are drawn again.
    if (!view.querySelector('form')) route(false);
  });

  async function start() {
    status(t('loading'));
    let r;
    try {
      r = await request('GET', '/api/me');
    } catch (e) {
      return status(t('offline'));
    }
    if (r.status === 401) return toLogin();
    if (r.status !== 200) return status(apiError(r));
    lcUI.setCsrf(r.data.csrf_token);
    $('who').textContent = r.data.user.email;
    $('logout').hidden = false;
    route(false);
  }
  start();
})();
