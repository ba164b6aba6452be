// The moderator's console (/console/{webinar_id}): stream health, the audience, the waiting
// room, raised hands, questions, polls, chat moderation, the interaction settings and ending
// the webinar. Kept current by the moderators' event stream (a snapshot, then events that
// replace objects by id) and by polling the stream's health every 2 s.
'use strict';

(function () {
  const { t } = lcText;
  const { el, request, fieldError, clearErrors } = lcUI;
  const { reconcile, resultBars, refusal } = lcLive;
  const $ = (id) => document.getElementById(id);
  const id = decodeURIComponent(location.pathname.split('/')[2] || '');
  const base = '/api/admin/webinars/' + encodeURIComponent(id);
  const HEALTH_MS = 2000;
  const WAITING_MS = 2000;
  const KEYFRAME_MAX_S = 4;
  const MAX_OPTIONS = 10;

  // What the event stream told us; every event replaces the object it carries.
  const live = {
    settings: { questions_public: false, chat_enabled: false, names_hidden: true },
    polls: new Map(), questions: new Map(), chat: new Map(), hands: new Map(),
    muted: new Set(), audience: null,
  };
  const names = new Map(); // registration_id → name, from whatever named them
  let webinar = null;
  let health = null;
  let waiting = null;
  let qFilter = 'open';
  let replyTo = null; // registration_id of a private reply, or null for everyone

  function status(text) { $('status').textContent = text || ''; }

  /* ---- requests --------------------------------------------------------------------------- */

  function toLogin() {
    location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
  }

  /* A request of the organiser's session: resolves the answer (null when the server cannot be
   * reached, after saying so); a 401 goes to the login page. */
  async function call(method, url, body) {
    let r;
    try {
      r = await request(method, url, body, { timeoutMs: 15000 });
    } catch (e) {
      status(t('offline'));
      return null;
    }
    if (r.status === 401) {
      toLogin();
      return null;
    }
    return r;
  }

  /* A state change: the answer when its status is `ok`, else null after showing why. */
  async function act(method, url, body, ok = 200) {
    const r = await call(method, url, body);
    if (!r) return null;
    if (r.status !== ok) {
      status(refusal(r));
      return null;
    }
    return r;
  }

  /* For act(...).then(): hands the accepted answer's data to fn. */
  const applied = (fn) => (r) => { if (r) fn(r.data); };

  /* ---- small builders --------------------------------------------------------------------- */

  /* A small button; `k` names it for keeping the focus when its item is redrawn. */
  function btn(key, k, onclick, attrs) {
    return el('button', { type: 'button', class: 'small', text: t(key), 'data-k': k, onclick,
      ...attrs });
  }

  function clock(iso) { return iso ? lcText.time(iso) : ''; }

  function who(name, registrationId) {
    return name || (registrationId ? t('con.attendeeNo', { id: registrationId }) : t('chat.mod'));
  }

  function remember(registrationId, name) {
    if (registrationId && name) names.set(registrationId, name);
  }

  /* ---- stream health ---------------------------------------------------------------------- */

  function renderHealth() {
    const h = health;
    const state = h ? h.state : 'offline';
    $('health-state').dataset.state = state;
    $('health-state').textContent = t('health.' + state);
    const v = h && h.video, a = h && h.audio;
    const rows = [];
    const row = (key, value) => rows.push(el('dt', { text: t(key) }), el('dd', { text: value }));
    if (state !== 'offline') {
      row('health.video', v ? `${v.codec} ${v.width}×${v.height}` : t('health.none'));
      if (v) {
        row('health.bitrate', t('health.kbps', { n: Math.round(v.bitrate_kbps) }));
        row('health.fps', String(Math.round(v.fps * 10) / 10));
        row('health.keyframe', t('health.seconds', { n: Math.round(v.keyframe_interval_s * 10) / 10 }));
      }
      row('health.audio', a ? `${a.codec}, ${a.sample_rate} Hz, ${a.channels} ch, ` +
        t('health.kbps', { n: Math.round(a.bitrate_kbps) }) : t('health.none'));
      row('health.audioPresent', t(h.audio_present ? 'yes' : 'no'));
    }
    $('health').replaceChildren(...rows);
    const warn = [];
    if (state === 'grace') warn.push(t('health.warnGrace'));
    if (state === 'running') {
      if (!v) warn.push(t('health.warnNoVideo'));
      if (v && v.keyframe_interval_s > KEYFRAME_MAX_S)
        warn.push(t('health.warnKeyframe', { n: Math.round(v.keyframe_interval_s * 10) / 10,
          max: KEYFRAME_MAX_S }));
      if (!h.audio_present) warn.push(t('health.warnAudio'));
    }
    // Only a change is written, so that screen readers hear a warning once.
    const list = $('health-warnings');
    if (JSON.stringify(warn) !== JSON.stringify([...list.children].map((li) => li.textContent)))
      list.replaceChildren(...warn.map((w) => el('li', { class: 'warning', text: w })));
    if (h && h.audience) setAudience(h.audience);
  }

  async function pollHealth() {
    const r = await call('GET', base + '/health');
    if (r && r.status === 200) {
      health = r.data;
      renderHealth();
    }
  }

  /* ---- audience and waiting room ---------------------------------------------------------- */

  function setAudience(a) {
    live.audience = a;
    $('audience').textContent = t('con.audienceCount', { watching: a.watching,
      waiting: a.waiting });
  }

  function renderWaiting() {
    const d = waiting;
    if (!d) return;
    $('waiting-off').hidden = d.waiting_room;
    $('waiting-count').textContent = t('adm.waitingCount', { n: d.waiting.length });
    $('admit-all').disabled = d.waiting.length === 0;
    reconcile($('waiting'), d.waiting, (p) => p.id, (p) => JSON.stringify([p, lcText.lang]),
      (p) => el('li', { class: 'item' },
        el('span', { class: 'grow' }, el('strong', { text: p.name }), ' ',
          el('span', { class: 'muted', text: p.email })),
        btn('adm.admit', 'admit', () => admit({ ids: [p.id] }),
          { 'aria-label': t('adm.admitNamed', { name: p.name }) })));
  }

  async function refreshWaiting() {
    const r = await call('GET', base + '/waiting');
    if (r && r.status === 200) {
      waiting = r.data;
      renderWaiting();
    }
  }

  async function admit(body) {
    const r = await act('POST', base + '/admission', body);
    if (!r) return;
    status(t('adm.admitted', { n: r.data.admitted }));
    refreshWaiting();
  }

  /* ---- raised hands ----------------------------------------------------------------------- */

  function renderHands() {
    const raised = [...live.hands.values()].filter((h) => h.raised)
      .sort((a, b) => String(a.raised_at).localeCompare(String(b.raised_at)));
    $('hands-none').hidden = raised.length > 0;
    reconcile($('hands'), raised, (h) => h.registration_id,
      (h) => JSON.stringify([h, lcText.lang]), (h) => {
        const name = who(h.name, h.registration_id);
        return el('li', { class: 'item' + (h.acknowledged_at ? ' acked' : '') },
          el('span', { class: 'grow' }, el('strong', { text: name }), ' ',
            el('span', { class: 'muted', text: t('con.raisedAt', { time: clock(h.raised_at) }) }),
            h.acknowledged_at ? el('span', { class: 'tag', text: t('con.acknowledged') }) : null),
          h.acknowledged_at ? null : btn('con.acknowledge', 'ack',
            () => handAction(h, 'acknowledge'),
            { 'aria-label': t('con.acknowledgeNamed', { name }) }),
          btn('con.lower', 'lower', () => handAction(h, 'lower'),
            { 'aria-label': t('con.lowerNamed', { name }) }));
      });
  }

  function handAction(h, action) {
    act('POST', base + '/hands/' + h.registration_id, { action }).then(applied(upsertHand));
  }

  function upsertHand(h) {
    remember(h.registration_id, h.name);
    live.hands.set(h.registration_id, h);
    renderHands();
  }

  /* ---- questions -------------------------------------------------------------------------- */

  function renderQuestions() {
    const all = [...live.questions.values()];
    for (const b of document.querySelectorAll('[data-filter]')) {
      const f = b.dataset.filter;
      b.textContent = t('con.filter.' + f, { n: all.filter((q) => q.state === f).length });
      b.setAttribute('aria-pressed', String(f === qFilter));
    }
    // Open questions by upvotes then age; the others newest first.
    const shown = all.filter((q) => q.state === qFilter).sort((a, b) => (qFilter === 'open'
      ? b.upvotes - a.upvotes || a.id - b.id : b.id - a.id));
    $('questions-none').hidden = shown.length > 0;
    reconcile($('questions'), shown, (q) => q.id,
      (q) => JSON.stringify([q, live.settings.names_hidden, lcText.lang]),
      (q) => {
        const bodyId = 'q-body-' + q.id;
        const b = (key, state) => btn(key, state, () => setQuestion(q, state),
          { 'aria-describedby': bodyId });
        return el('li', { class: 'item question' },
          el('div', { class: 'grow' },
            el('p', { id: bodyId, class: 'text body', text: q.body }),
            el('p', { class: 'meta' }, el('strong', { text: who(q.name, q.registration_id) }),
              ' · ', t('q.upvotes', { n: q.upvotes }), ' · ', clock(q.asked_at),
              q.show_name && !live.settings.names_hidden ? null
                : el('span', { class: 'tag', text: t('con.nameHidden') }),
              q.public ? null : el('span', { class: 'tag', text: t('con.qPrivate') }))),
          el('span', { class: 'row-actions' }, q.state === 'open'
            ? [b('con.markAnswered', 'answered'), b('con.dismiss', 'dismissed')]
            : b('con.reopen', 'open')));
      });
  }

  function setQuestion(q, state) {
    act('PATCH', base + '/questions/' + q.id, { state }).then(applied(upsertQuestion));
  }

  function upsertQuestion(q) {
    remember(q.registration_id, q.name);
    live.questions.set(q.id, q);
    renderQuestions();
  }

  /* ---- polls ------------------------------------------------------------------------------ */

  function optionRow(value) {
    const list = $('poll-options');
    const n = list.children.length + 1;
    const input = el('input', { type: 'text', maxlength: 120, value: value || '',
      id: 'poll-option-' + n + '-' + Date.now() });
    const label = el('label', { for: input.id, class: 'visually-hidden' });
    const remove = el('button', { type: 'button', class: 'small', text: t('adm.remove'),
      onclick: () => {
        if (list.children.length <= 2) return;
        li.remove();
        numberOptions();
        $('poll-add-option').focus();
      } });
    const li = el('li', { class: 'option-input' }, label, input, remove);
    list.append(li);
    numberOptions();
    return input;
  }

  /* Labels and remove buttons say which answer they are ("Answer 2", "Remove answer 2"). */
  function numberOptions() {
    const rows = [...$('poll-options').children];
    rows.forEach((li, i) => {
      li.querySelector('label').textContent = t('con.optionN', { n: i + 1 });
      const b = li.querySelector('button');
      b.setAttribute('aria-label', t('con.removeOptionN', { n: i + 1 }));
      b.disabled = rows.length <= 2;
    });
    $('poll-add-option').disabled = rows.length >= MAX_OPTIONS;
  }

  function resetPollForm() {
    $('poll-question').value = '';
    $('poll-options').replaceChildren();
    optionRow();
    optionRow();
    $('poll-multiple').checked = false;
    $('poll-anonymous').checked = true;
    $('poll-allow-change').checked = false;
  }

  async function createPoll(open) {
    const form = $('poll-form');
    clearErrors(form);
    fieldError($('poll-options-box'), null);
    const question = $('poll-question').value.trim();
    const inputs = [...$('poll-options').querySelectorAll('input')];
    const options = inputs.map((i) => i.value.trim());
    if (!question) return fieldError($('poll-question'), t('err.required'));
    const empty = inputs.find((i) => !i.value.trim());
    if (empty) { fieldError(empty, t('err.required')); return empty.focus(); }
    if (new Set(options).size !== options.length) {
      fieldError($('poll-options-box'), t('con.optionsAlike'));
      return $('poll-options-box').focus();
    }
    const r = await act('POST', base + '/polls', { question, options,
      multiple: $('poll-multiple').checked, anonymous: $('poll-anonymous').checked,
      allow_change: $('poll-allow-change').checked, open }, 201);
    if (!r) return;
    upsertPoll(r.data);
    resetPollForm();
    status(t(open ? 'con.pollOpened' : 'con.pollDrafted'));
    $('poll-question').focus();
  }

  // What each poll button posts, after /polls/{id}.
  const POLL_ACTIONS = { open: ['/open'], close: ['/close'],
    show: ['/results', { shown: true }], hide: ['/results', { shown: false }] };

  async function pollAction(p, what) {
    if (what === 'delete') {
      if (!confirm(t('con.deletePollConfirm', { question: p.question }))) return;
      const r = await act('DELETE', base + '/polls/' + p.id, undefined, 204);
      if (r) removePoll(p.id);
      return;
    }
    const [path, body] = POLL_ACTIONS[what];
    act('POST', base + '/polls/' + p.id + path, body).then(applied(upsertPoll));
  }

  function pollFlags(p) {
    return [t(p.multiple ? 'poll.multiple' : 'poll.single'),
      t(p.anonymous ? 'poll.anonymous' : 'poll.named'),
      p.allow_change ? t('poll.changeAllowed') : null].filter(Boolean).join(' · ');
  }

  function renderPolls() {
    const polls = [...live.polls.values()].sort((a, b) => b.id - a.id);
    $('polls-none').hidden = polls.length > 0;
    reconcile($('polls'), polls, (p) => p.id, (p) => JSON.stringify([p, lcText.lang]), (p) => {
      const a = (key, k, what, attrs) => btn(key, k, () => pollAction(p, what),
        { 'aria-describedby': 'poll-q-' + p.id, ...attrs });
      const actions = [];
      if (p.state !== 'open') actions.push(a(p.state === 'draft' ? 'con.open' : 'con.reopen',
        'open', 'open'));
      if (p.state === 'open') actions.push(a('con.close', 'close', 'close'));
      if (p.state !== 'draft') actions.push(p.results_shown
        ? a('con.hideResults', 'hide', 'hide') : a('con.showResults', 'show', 'show'));
      if (p.state !== 'open') actions.push(a('adm.delete', 'delete', 'delete',
        { class: 'small danger' }));
      return el('li', { class: 'item poll-item', 'data-state': p.state },
        el('div', { class: 'grow' },
          el('p', { class: 'poll-head' }, el('strong', { id: 'poll-q-' + p.id, text: p.question }),
            ' ', el('span', { class: 'tag state-' + p.state, text: t('poll.state.' + p.state) }),
            p.results_shown ? el('span', { class: 'tag', text: t('con.resultsShown') }) : null),
          el('p', { class: 'hint', text: pollFlags(p) }),
          p.results && p.state !== 'draft' ? resultBars(p, p.results) : null,
          el('p', { class: 'row-actions' }, actions,
            p.state === 'draft' ? null : el('a', { href: base + '/polls/' + p.id + '/results.csv',
              download: '', 'data-k': 'csv', text: t('con.resultsCsv'),
              'aria-describedby': 'poll-q-' + p.id }))));
    });
  }

  function upsertPoll(p) {
    const prev = live.polls.get(p.id);
    // A poll event without results keeps the last known ones.
    if (!p.results && prev && prev.results) p = { ...p, results: prev.results };
    live.polls.set(p.id, p);
    renderPolls();
  }

  function removePoll(pollId) {
    live.polls.delete(pollId);
    renderPolls();
  }

  /* ---- chat ------------------------------------------------------------------------------- */

  function chatLine(m) {
    const from = m.from === 'moderator' ? (m.name || t('chat.mod'))
      : who(m.name, m.registration_id);
    const to = m.private ? (m.from === 'moderator'
      ? t('con.privateTo', { name: who(names.get(m.to_registration_id), m.to_registration_id) })
      : t('con.privateToMods')) : null;
    const rid = m.from === 'attendee' ? m.registration_id : null;
    const isMuted = rid && live.muted.has(rid);
    const bodyId = 'msg-' + m.id;
    return el('li', { class: 'msg' + (m.private ? ' private' : '') + (m.deleted ? ' deleted' : '') +
      (m.from === 'moderator' ? ' from-mod' : '') },
    el('p', { class: 'meta' }, el('strong', { text: from }), ' ',
      el('span', { class: 'muted', text: clock(m.at) }),
      to ? el('span', { class: 'tag', text: to }) : null,
      m.deleted ? el('span', { class: 'tag', text: t('con.deleted') }) : null,
      isMuted ? el('span', { class: 'tag', text: t('con.mutedTag') }) : null),
    el('p', { id: bodyId, class: 'text body', text: m.body }),
    el('p', { class: 'row-actions' },
      m.deleted ? null : btn('adm.delete', 'delete', () => deleteMessage(m),
        { 'aria-describedby': bodyId }),
      rid ? btn(isMuted ? 'con.unmute' : 'con.mute', 'mute', () => mute(rid, !isMuted),
        { 'aria-label': t(isMuted ? 'con.unmuteNamed' : 'con.muteNamed', { name: from }) }) : null,
      rid ? btn('con.reply', 'reply', () => startReply(rid),
        { 'aria-label': t('con.replyNamed', { name: from }) }) : null));
  }

  function renderChat() {
    const list = $('chat');
    const atEnd = list.scrollTop + list.clientHeight >= list.scrollHeight - 30;
    const msgs = [...live.chat.values()].sort((a, b) => a.id - b.id);
    reconcile(list, msgs, (m) => m.id, (m) => JSON.stringify([m, lcText.lang,
      m.registration_id && live.muted.has(m.registration_id),
      m.to_registration_id && names.get(m.to_registration_id)]), chatLine);
    if (atEnd) list.scrollTop = list.scrollHeight;
  }

  /* A chat message with `from` and `private` as the contract has them; the server's moderator
   * view (raw rows: registration_id null for a moderator, to_moderators) is read as well. */
  function message(m) {
    return { ...m, from: m.from || (m.registration_id == null ? 'moderator' : 'attendee'),
      private: m.private ?? !!(m.to_moderators || m.to_registration_id != null) };
  }

  function upsertMessage(raw) {
    const m = message(raw);
    remember(m.registration_id, m.from === 'attendee' ? m.name : null);
    const prev = live.chat.get(m.id);
    live.chat.set(m.id, { ...m, deleted: !!(m.deleted || (prev && prev.deleted)) });
    renderChat();
  }

  async function deleteMessage(m) {
    const r = await act('DELETE', base + '/chat/' + m.id, undefined, 204);
    if (r) upsertMessage({ ...m, deleted: true });
  }

  async function mute(registrationId, muted) {
    const r = await act('POST', base + '/mutes', { registration_id: registrationId, muted }, 204);
    if (!r) return;
    setMuted(registrationId, muted);
    status(t(muted ? 'con.muted' : 'con.unmuted', { name: who(names.get(registrationId),
      registrationId) }));
  }

  function setMuted(registrationId, muted) {
    if (muted) live.muted.add(registrationId);
    else live.muted.delete(registrationId);
    renderChat();
  }

  function startReply(registrationId) {
    replyTo = registrationId;
    renderReplyTo();
    $('chat-body').focus();
  }

  function renderReplyTo() {
    $('reply-to').hidden = replyTo === null;
    $('reply-to-text').textContent = replyTo === null ? ''
      : t('con.replyingTo', { name: who(names.get(replyTo), replyTo) });
  }

  async function sendChat(ev) {
    ev.preventDefault();
    const body = $('chat-body');
    fieldError(body, null);
    if (!body.value.trim()) return fieldError(body, t('err.required'));
    $('chat-send').disabled = true;
    try {
      const r = await act('POST', base + '/chat', { body: body.value,
        to_registration_id: replyTo }, 201);
      if (!r) return;
      upsertMessage(r.data);
      body.value = '';
    } finally {
      $('chat-send').disabled = false;
      body.focus();
    }
  }

  /* ---- settings --------------------------------------------------------------------------- */

  const SETTINGS = ['questions_public', 'chat_enabled'];

  function renderSettings() {
    const s = live.settings;
    for (const k of SETTINGS) $('set-' + k).checked = !!s[k];
    $('chat-off').hidden = !!s.chat_enabled;
    $('names-note').textContent = t(s.names_hidden ? 'con.namesHidden' : 'con.namesShown');
    $('questions-note').textContent = t(s.questions_public ? 'con.questionsPublic'
      : 'con.questionsPrivate');
    renderQuestions();
  }

  async function changeSetting(k) {
    const box = $('set-' + k);
    box.disabled = true;
    const r = await act('PATCH', base, { [k]: box.checked });
    box.disabled = false;
    if (r) {
      webinar = r.data;
      live.settings = { ...live.settings, [k]: box.checked };
      status(t('adm.saved'));
    }
    renderSettings();
  }

  /* ---- the event stream ------------------------------------------------------------------- */

  function applySnapshot(s) {
    live.settings = s.settings;
    live.polls = new Map(s.polls.map((p) => [p.id, p]));
    live.questions = new Map(s.questions.map((q) => [q.id, q]));
    live.chat = new Map(s.chat.map((m) => [m.id, message(m)]));
    live.hands = new Map(s.hands.map((h) => [h.registration_id, h]));
    live.muted = new Set(s.muted);
    for (const q of s.questions) remember(q.registration_id, q.name);
    for (const h of s.hands) remember(h.registration_id, h.name);
    for (const m of live.chat.values())
      if (m.from === 'attendee') remember(m.registration_id, m.name);
    if (s.audience) setAudience(s.audience);
    renderAll();
  }

  function renderAll() {
    renderSettings();
    renderHands();
    renderQuestions();
    renderPolls();
    renderChat();
    renderReplyTo();
    renderHealth();
    renderWaiting();
    if (live.audience) setAudience(live.audience);
  }

  const handlers = {
    snapshot: applySnapshot,
    settings: (s) => { live.settings = s; renderSettings(); },
    poll: upsertPoll,
    poll_results: (r) => {
      const p = live.polls.get(r.id);
      if (p) upsertPoll({ ...p, results: { total: r.total, voters: r.voters, counts: r.counts } });
    },
    poll_removed: (d) => removePoll(d.id),
    question: upsertQuestion,
    chat: upsertMessage,
    chat_deleted: (d) => { const m = live.chat.get(d.id); if (m) upsertMessage({ ...m, deleted: true }); },
    hand: upsertHand,
    muted: (d) => setMuted(d.registration_id, d.muted),
    audience: setAudience,
    ended: () => { status(t('con.ended')); pollHealth(); },
  };

  function setConn(state) {
    $('conn').dataset.state = state;
    $('conn').textContent = t('conn.' + state);
  }

  /* The stream was refused: a session that ended goes to the login page; anything else is
   * tried again. */
  async function streamClosed() {
    const r = await call('GET', '/api/me');
    return !(r && r.status === 401);
  }

  /* Runs fn now and then ms after each run ended (a slow answer never piles requests up). */
  async function every(ms, fn) {
    for (;;) {
      await fn();
      await new Promise((resolve) => setTimeout(resolve, ms));
    }
  }

  /* ---- start ------------------------------------------------------------------------------ */

  function wire() {
    for (const b of document.querySelectorAll('[data-filter]'))
      b.addEventListener('click', () => { qFilter = b.dataset.filter; renderQuestions(); });
    $('admit-all').addEventListener('click', () => admit({ all: true }));
    $('poll-add-option').addEventListener('click', () => optionRow().focus());
    $('poll-form').addEventListener('submit', (ev) => { ev.preventDefault(); createPoll(true); });
    $('poll-draft').addEventListener('click', () => createPoll(false));
    $('chat-form').addEventListener('submit', sendChat);
    $('reply-cancel').addEventListener('click', () => {
      replyTo = null;
      renderReplyTo();
      $('chat-body').focus();
    });
    for (const k of SETTINGS) $('set-' + k).addEventListener('change', () => changeSetting(k));
    $('end').addEventListener('click', async () => {
      if (!confirm(t('con.endConfirm', { title: webinar.title }))) return;
      const r = await call('POST', base + '/end');
      if (!r) return;
      if (r.status === 204) status(t('con.ended'));
      else status(r.status === 409 ? t('con.notLive') : refusal(r));
      pollHealth();
    });
  }

  async function start() {
    lcText.mountSwitch($('lang'), () => {
      if (webinar) {
        numberOptions();
        renderAll();
        setConn($('conn').dataset.state);
      }
    });
    $('title').textContent = t('loading');
    setConn('connecting');
    const me = await call('GET', '/api/me');
    if (!me) return;
    if (me.status !== 200) return status(refusal(me));
    lcUI.setCsrf(me.data.csrf_token);
    $('who').textContent = me.data.user.email;
    const r = await call('GET', base);
    if (!r) return;
    if (r.status !== 200) {
      $('title').textContent = t('adm.notFound');
      $('conn').hidden = true;
      return status(r.status === 404 ? '' : refusal(r));
    }
    webinar = r.data;
    $('title').textContent = t('con.title', { title: webinar.title });
    document.title = t('con.title', { title: webinar.title }) + ' — lectern';
    $('settings-link').href = '/admin/' + encodeURIComponent(id);
    $('polls-csv').href = base + '/polls.csv';
    live.settings = { questions_public: !!webinar.questions_public,
      chat_enabled: !!webinar.chat_enabled, names_hidden: webinar.hide_attendee_names };
    wire();
    resetPollForm();
    renderAll();
    $('console').hidden = false;
    lcLive.stream(base + '/events', handlers, { onState: setConn, onClosed: streamClosed });
    every(HEALTH_MS, pollHealth);
    every(WAITING_MS, refreshWaiting);
  }
  start();
})();
