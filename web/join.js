// The personal join page (/j/{token}): what the link opens now — awaiting approval, rejected,
// the room password, the waiting room, a countdown, the live player, the replay, or the end —
// kept current without reloading by long-polling GET /api/join/{token}?wait=STATE, and
// attendance heartbeats every 30 s while the video plays. In the room (live or scheduled) the
// attendee's event stream drives the polls, questions, chat and raised hand below the video.
'use strict';

(function () {
  const { t } = lcText;
  const { el, request, fieldError } = lcUI;
  const { reconcile, resultBars, refusal } = lcLive;
  const token = decodeURIComponent(location.pathname.split('/')[2] || '');
  const api = '/api/join/' + encodeURIComponent(token);
  const $ = (id) => document.getElementById(id);
  const video = $('video');
  // States the server holds a ?wait= request in until they change; the others are answered at
  // once, so the page asks again only now and then (a decision or a new session may come).
  const HELD = new Set(['pending', 'waiting', 'scheduled', 'live', 'replay', 'ended']);
  const SLOW_POLL_MS = 30000;
  const HEARTBEAT_MS = 30000;
  let view = null; // the last answer of the join API
  let player = null; // { url, mode, handle }
  let chosenReplay = null; // session_id picked from the list, when there are several
  let lastBeat = 0;
  let wakePoll = () => {};
  const IN_ROOM = new Set(['live', 'scheduled']);

  function stopPlayer() {
    if (player) player.handle.destroy();
    player = null;
    $('stage').hidden = true;
    $('unmute').hidden = true;
  }

  function play(url, mode) {
    if (player && player.url === url) return;
    stopPlayer();
    $('stage').hidden = false;
    const handle = lectern.attach(video, url, { live: mode === 'live',
      onFatal: () => { stopPlayer(); lectern.setStatus('error', t('join.cannotPlay')); } });
    player = { url, mode, handle };
    $('unmute').hidden = !video.muted;
    window.lecternPlayer = handle; // for diagnostics and the browser tests
  }

  /* Attendance: one heartbeat when playback starts (unless one went out within the interval),
   * then one every HEARTBEAT_MS while the video really plays. */
  function beat() {
    if (!player || video.paused || video.ended || video.readyState < 3) return;
    lastBeat = Date.now();
    request('POST', api + '/heartbeat', { mode: player.mode }).catch(() => {});
  }
  video.addEventListener('playing', () => { if (Date.now() - lastBeat >= HEARTBEAT_MS) beat(); });
  setInterval(beat, HEARTBEAT_MS);

  function currentReplay() {
    const list = view.replays || [];
    return list.find((r) => r.session_id === chosenReplay) || list[0] || null;
  }

  function renderReplays() {
    const list = view.state === 'replay' ? view.replays || [] : [];
    const current = currentReplay();
    $('replay-list').replaceChildren(...list.map((r) => el('li', {},
      el('button', { type: 'button', class: 'link',
        'aria-current': current && r.session_id === current.session_id ? 'true' : null,
        onclick: () => { chosenReplay = r.session_id; render(); } },
      lcText.dateTime(r.started_at) + ' (' + lectern.formatDuration(r.duration_s) + ')'))));
    $('replays').hidden = list.length < 2;
  }

  /* The countdown to the start (scheduled and waiting); "starting soon" once the time passed. */
  function tick() {
    if (!view) return;
    const w = view.webinar;
    const left = w.starts_at ? Date.parse(w.starts_at) - Date.now() : NaN;
    const counting = (view.state === 'scheduled' || view.state === 'waiting') && left > 0;
    $('countdown').hidden = !counting;
    if (counting) $('countdown').textContent = t('join.startsIn', { time: lcText.countdown(left) });
    if (view.state === 'scheduled') {
      const text = t(left <= 0 && w.starts_at ? 'join.startingSoon' : 'join.scheduled');
      if ($('status').textContent !== text) lectern.setStatus('scheduled', text);
    }
  }
  setInterval(tick, 1000);

  const STATUS = { pending: 'join.pending', rejected: 'join.rejected',
    password: 'join.passwordNeeded', waiting: 'join.waiting', live: 'join.live',
    replay: 'join.replay', ended: 'join.ended' };

  function render() {
    const v = view, w = v.webinar;
    $('title').textContent = w.title;
    document.title = w.title + ' — lectern';
    $('when').textContent = w.starts_at ? lcText.dateTime(w.starts_at) + ' · ' +
      lcText.duration(w.duration_s) : '';
    $('description').textContent = w.description || '';
    if (STATUS[v.state]) lectern.setStatus(v.state, t(STATUS[v.state]));
    $('password-form').hidden = v.state !== 'password';
    if (v.state === 'live') {
      play(v.hls_url, 'live');
    } else if (v.state === 'replay' && currentReplay()) {
      play(currentReplay().hls_url, 'replay');
    } else {
      stopPlayer();
    }
    renderReplays();
    if (IN_ROOM.has(v.state)) room.enter();
    else room.leave();
    tick();
  }

  /* ---- in the room: polls, raised hand, questions, chat ---------------------------------- */

  /* The attendee's live interaction, from the event stream GET /api/join/{token}/events:
   * enter() opens the stream and shows the panels (again and again is harmless), leave()
   * closes it and hides them, redraw() follows the language switch. */
  function makeRoom() {
    let stream = null;
    let snapshotSeen = false;
    let settings = { questions_public: false, chat_enabled: false, names_hidden: true };
    const HAND_DOWN = { raised: false, raised_at: null, acknowledged_at: null };
    let hand = HAND_DOWN;
    let handNote = null; // a key: what happened to the hand last, shown and announced
    let muted = false;
    let polls = new Map(), questions = new Map(), chat = new Map();
    const myVotes = new Map(); // poll id → option ids stored
    const picks = new Map(); // poll id → option ids ticked, not yet sent
    const pollErrors = new Map(); // poll id → the refusal of the last vote

    /* ---- polls ---- */

    function pollCard(p) {
      const mine = myVotes.get(p.id) || null;
      const locked = p.state !== 'open' || (mine && !p.allow_change);
      const picked = picks.get(p.id) || mine || [];
      const legendId = 'poll-' + p.id + '-q';
      const noticeId = 'poll-' + p.id + '-named';
      const options = p.options.map((o) => {
        const inputId = 'poll-' + p.id + '-o' + o.id;
        return el('div', { class: 'field check' },
          el('input', { id: inputId, type: p.multiple ? 'checkbox' : 'radio',
            name: 'poll-' + p.id, value: String(o.id), 'data-k': 'o' + o.id,
            checked: picked.includes(o.id), disabled: locked,
            onchange: (ev) => notePick(p, ev.target.form) }),
          el('label', { for: inputId, text: o.label }));
      });
      const chosen = mine ? p.options.filter((o) => mine.includes(o.id)).map((o) => o.label) : [];
      const form = el('form', { class: 'poll form', novalidate: true,
        onsubmit: (ev) => { ev.preventDefault(); vote(p, ev.target); } },
      el('fieldset', { 'aria-describedby': p.anonymous ? null : noticeId },
        el('legend', { id: legendId, text: p.question }),
        p.anonymous ? null : el('p', { id: noticeId, class: 'notice named',
          text: t('poll.namedNotice') }),
        el('p', { class: 'hint', text: t(p.multiple ? 'poll.chooseMany' : 'poll.chooseOne') }),
        options),
      locked ? null : el('p', {}, el('button', { type: 'submit', 'data-k': 'submit',
        text: t(mine ? 'poll.change' : 'poll.vote') })),
      // Where the focus goes when voting removed the button.
      mine ? el('p', { class: 'your-vote', tabindex: '-1', 'data-k': locked ? 'submit' : null,
        text: t('poll.yourVote', { labels: chosen.join(', ') }) }) : null,
      p.state === 'closed' ? el('p', { class: 'muted', text: t('poll.closed') }) : null,
      pollErrors.has(p.id) ? el('p', { class: 'field-error', role: 'alert',
        text: pollErrors.get(p.id) }) : null,
      p.results ? el('div', {}, el('h3', { class: 'small-h', text: t('poll.results') }),
        resultBars(p, p.results)) : null);
      return el('div', { class: 'poll-card' }, form);
    }

    function notePick(p, form) {
      picks.set(p.id, [...form.querySelectorAll('input:checked')].map((i) => Number(i.value)));
    }

    async function vote(p, form) {
      const options = [...form.querySelectorAll('input:checked')].map((i) => Number(i.value));
      pollErrors.delete(p.id);
      if (!options.length) {
        pollErrors.set(p.id, t('poll.pickOne'));
        return renderPolls();
      }
      let r = null;
      try {
        r = await request('POST', api + '/polls/' + p.id + '/vote', { options });
      } catch (e) { /* shown below */ }
      if (r && r.status === 200) {
        myVotes.set(p.id, r.data.options);
        picks.delete(p.id);
        $('poll-announce').textContent = t('poll.thanks');
      } else {
        pollErrors.set(p.id, refusal(r));
      }
      renderPolls();
    }

    /* Open polls, and closed ones whose results are shown; the newest first. */
    function renderPolls() {
      const shown = [...polls.values()].filter((p) => p.state === 'open' || p.results)
        .sort((a, b) => b.id - a.id);
      $('polls-panel').hidden = shown.length === 0;
      reconcile($('polls'), shown, (p) => p.id, (p) => JSON.stringify([p, myVotes.get(p.id),
        pollErrors.get(p.id), lcText.lang]), pollCard);
    }

    function upsertPoll(p) {
      const prev = polls.get(p.id);
      if (p.my_vote) myVotes.set(p.id, p.my_vote);
      if (snapshotSeen && p.state === 'open' && (!prev || prev.state !== 'open'))
        $('poll-announce').textContent = t('poll.new', { question: p.question });
      polls.set(p.id, p);
      renderPolls();
    }

    /* ---- the raised hand ---- */

    function renderHand() {
      $('hand').setAttribute('aria-pressed', String(!!hand.raised));
      const key = hand.acknowledged_at ? 'hand.acknowledged'
        : hand.raised ? 'hand.raised' : handNote;
      const text = key ? t(key) : '';
      if ($('hand-state').textContent !== text) $('hand-state').textContent = text;
      $('hand-state').dataset.state = hand.acknowledged_at ? 'acknowledged'
        : hand.raised ? 'raised' : 'down';
    }

    function setHand(h, byMe) {
      // Lowered without the attendee asking: the moderator did it.
      handNote = hand.raised && !h.raised && !h.acknowledged_at && !byMe ? 'hand.lowered' : null;
      hand = h;
      renderHand();
    }

    async function toggleHand() {
      const b = $('hand');
      b.disabled = true;
      try {
        const r = await request('POST', api + '/hand', { raised: !hand.raised });
        if (r.status === 200) setHand(r.data, true);
        else $('hand-state').textContent = refusal(r);
      } catch (e) {
        $('hand-state').textContent = t('offline');
      } finally {
        b.disabled = false;
      }
    }

    /* ---- questions ---- */

    function questionItem(q) {
      const bodyId = 'q-' + q.id + '-body';
      const meta = [t('q.state.' + q.state), t('q.upvotes', { n: q.upvotes })];
      return el('li', { class: 'item question', 'data-state': q.state },
        el('div', { class: 'grow' },
          el('p', { id: bodyId, class: 'text body', text: q.body }),
          el('p', { class: 'meta muted' }, q.mine ? null : [q.name || t('q.anonymous'), ' · '],
            meta.join(' · '))),
        q.mine || !q.public || q.state !== 'open' ? null
          : el('button', { type: 'button', class: 'small', 'data-k': 'up',
            'aria-describedby': bodyId, disabled: !!q.upvoted,
            text: t(q.upvoted ? 'q.upvoted' : 'q.upvote'), onclick: () => upvote(q) }));
    }

    function renderQuestions() {
      const all = [...questions.values()];
      const mine = all.filter((q) => q.mine).sort((a, b) => b.id - a.id);
      // A question is public or not as it was asked (the setting then), whatever it is now.
      const others = all.filter((q) => !q.mine && q.public && q.state !== 'dismissed')
        .sort((a, b) => b.upvotes - a.upvotes || a.id - b.id);
      $('my-questions-box').hidden = mine.length === 0;
      $('public-questions-box').hidden = !settings.questions_public && others.length === 0;
      $('public-none').hidden = others.length > 0;
      const sig = (q) => JSON.stringify([q, settings.questions_public, lcText.lang]);
      reconcile($('my-questions'), mine, (q) => q.id, sig, questionItem);
      reconcile($('public-questions'), others, (q) => q.id, sig, questionItem);
      $('question-hint').textContent = t(settings.questions_public ? 'q.hintPublic'
        : 'q.hintPrivate');
    }

    /* A question from an event keeps what only the attendee's own answers say (mine,
     * upvoted) when the event leaves it out. */
    function upsertQuestion(q) {
      const prev = questions.get(q.id) || {};
      questions.set(q.id, { ...q, mine: q.mine ?? prev.mine ?? false,
        upvoted: q.upvoted ?? prev.upvoted ?? false });
      renderQuestions();
    }

    async function upvote(q) {
      let r = null;
      try { r = await request('POST', api + '/questions/' + q.id + '/upvote'); } catch (e) { /* below */ }
      if (r && r.status === 200) upsertQuestion(r.data);
      else if (r && r.data && r.data.error && r.data.error.code === 'already_upvoted')
        upsertQuestion({ ...q, upvoted: true });
      else $('question-status').textContent = refusal(r);
    }

    /* Posts what was typed in a form's box (a question, a chat message): nothing when it is
     * empty; accepted (201), the box is emptied and the answer's data goes to done(); a
     * refusal is shown at the box. Resolves the answer (null when the server was not
     * reached). */
    async function postText(form, box, url, body, done) {
      fieldError(box, null);
      if (!box.value.trim()) return fieldError(box, t('err.required'));
      const submit = form.querySelector('[type="submit"]');
      submit.disabled = true;
      let r = null;
      try {
        r = await request('POST', url, body(box.value));
      } catch (e) { /* shown below */ }
      submit.disabled = false;
      if (r && r.status === 201) {
        box.value = '';
        done(r.data);
      } else {
        fieldError(box, refusal(r));
      }
      if (!box.disabled) box.focus();
      return r;
    }

    function ask(ev) {
      ev.preventDefault();
      $('question-status').textContent = '';
      postText(ev.target, $('question'), api + '/questions', (text) => ({ body: text,
        show_name: !settings.names_hidden && $('question-show-name').checked }), (q) => {
        upsertQuestion({ ...q, mine: true });
        $('question-status').textContent = t('q.sent');
      });
    }

    /* ---- chat ---- */

    function chatItem(m) {
      const from = m.mine ? t('chat.you') : m.from === 'moderator' ? (m.name || t('chat.mod'))
        : (m.name || t('chat.attendee'));
      const tag = !m.private ? null : m.mine ? t('chat.privateToMods')
        : m.from === 'moderator' ? t('chat.privateToYou') : null;
      return el('li', { class: 'msg' + (m.private ? ' private' : '') +
        (m.from === 'moderator' ? ' from-mod' : '') },
      el('p', { class: 'meta' }, el('strong', { text: from }), ' ',
        el('span', { class: 'muted', text: m.at ? lcText.time(m.at) : '' }),
        tag ? el('span', { class: 'tag', text: tag }) : null),
      el('p', { class: 'text body', text: m.body }));
    }

    function renderChat() {
      $('chat-panel').hidden = !settings.chat_enabled;
      $('chat-muted').hidden = !muted;
      for (const c of $('chat-form').elements) c.disabled = muted;
      const list = $('chat');
      const atEnd = list.scrollTop + list.clientHeight >= list.scrollHeight - 30;
      reconcile(list, [...chat.values()].sort((a, b) => a.id - b.id), (m) => m.id,
        (m) => JSON.stringify([m, lcText.lang]), chatItem);
      if (atEnd) list.scrollTop = list.scrollHeight;
    }

    async function send(ev) {
      ev.preventDefault();
      const r = await postText(ev.target, $('chat-body'), api + '/chat', (text) => ({ body: text,
        to: $('chat-to').value,
        show_name: !settings.names_hidden && $('chat-show-name').checked }), (m) => {
        chat.set(m.id, { ...m, mine: true });
        renderChat();
      });
      if (r && r.data && r.data.error && r.data.error.code === 'muted') {
        muted = true;
        renderChat();
      }
    }

    /* ---- the stream ---- */

    function renderSettings() {
      $('question-name-field').hidden = settings.names_hidden;
      $('chat-name-field').hidden = settings.names_hidden;
      renderQuestions();
      renderChat();
    }

    function redraw() {
      renderSettings();
      renderPolls();
      renderHand();
    }

    const handlers = {
      snapshot: (s) => {
        settings = s.settings;
        hand = s.you.hand || HAND_DOWN;
        muted = !!s.you.muted;
        polls = new Map();
        questions = new Map(s.questions.map((q) => [q.id, q]));
        chat = new Map(s.chat.map((m) => [m.id, m]));
        myVotes.clear();
        for (const p of s.polls) upsertPoll(p);
        snapshotSeen = true;
        $('room').hidden = false;
        redraw();
      },
      settings: (s) => { settings = s; renderSettings(); },
      poll: upsertPoll,
      poll_removed: (d) => { polls.delete(d.id); renderPolls(); },
      vote: (d) => { myVotes.set(d.poll_id, d.options); picks.delete(d.poll_id); renderPolls(); },
      question: upsertQuestion,
      chat: (m) => { chat.set(m.id, { ...m, mine: m.mine ?? chat.get(m.id)?.mine }); renderChat(); },
      chat_deleted: (d) => { chat.delete(d.id); renderChat(); },
      hand: (h) => setHand(h, false),
      muted: (d) => { muted = d.muted; renderChat(); },
      ended: () => { leave(); wakePoll(); },
    };

    function enter() {
      if (stream) return;
      stream = lcLive.stream(api + '/events', handlers, {
        onClosed: () => !!view && IN_ROOM.has(view.state) });
    }

    function leave() {
      if (stream) stream.close();
      stream = null;
      snapshotSeen = false;
      $('room').hidden = true;
    }

    $('hand').addEventListener('click', toggleHand);
    $('question-form').addEventListener('submit', ask);
    $('chat-form').addEventListener('submit', send);
    return { enter, leave, redraw };
  }
  const room = makeRoom();

  function notFound() {
    stopPlayer();
    room.leave();
    $('title').textContent = t('join.notFound');
    lectern.setStatus('missing', t('join.notFoundText'));
  }

  /* Resolves after ms, or earlier when wakePoll() is called. */
  function pause(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wakePoll = () => { clearTimeout(timer); resolve(); };
    });
  }

  /* The page's one loop: ask, show, ask again with ?wait= (held by the server until the state
   * changes, at most 25 s). Errors back off from 1 s to 30 s. */
  async function poll() {
    let failures = 0;
    for (;;) {
      const held = view && HELD.has(view.state);
      let r = null;
      try {
        r = await request('GET', held ? api + '?wait=' + view.state : api);
      } catch (e) { /* offline: retried below */ }
      if (r && r.status === 404) return notFound();
      if (r && r.status === 200) {
        failures = 0;
        view = r.data;
        render();
        if (!HELD.has(view.state)) await pause(SLOW_POLL_MS);
        continue;
      }
      failures++;
      lectern.setStatus('offline', t('offlineRetry'));
      await pause(Math.min(SLOW_POLL_MS, 1000 * 2 ** Math.min(failures - 1, 5)));
    }
  }

  $('password-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const input = $('password');
    fieldError(input, null);
    if (!input.value) return fieldError(input, t('err.required'));
    $('password-submit').disabled = true;
    let wait = 0;
    try {
      const r = await request('POST', api + '/password', { password: input.value });
      const err = r.data && r.data.error;
      if (r.status === 204) {
        input.value = '';
        lectern.setStatus('loading', t('loading'));
        wakePoll();
      } else if (r.status === 429) {
        wait = Number(r.headers.get('Retry-After')) || 60;
        fieldError(input, t('join.tooMany', { seconds: wait }));
      } else if (err && err.code === 'wrong_password') {
        fieldError(input, t('join.wrongPassword'));
      } else {
        fieldError(input, r.status === 503 ? t('busy') : err ? err.message
          : t('httpError', { status: r.status }));
      }
    } catch (e) {
      fieldError(input, t('offline'));
    }
    // Too many attempts: the button stays off for as long as the server asked.
    setTimeout(() => { $('password-submit').disabled = false; }, wait * 1000);
    if (!wait) input.focus();
  });

  $('unmute').addEventListener('click', () => {
    video.muted = false;
    $('unmute').hidden = true;
    video.play().catch(() => {});
  });

  lcText.mountSwitch($('lang'), () => { if (view) { render(); room.redraw(); } });
  $('title').textContent = t('loading');
  lectern.setStatus('loading', t('loading'));
  poll();
})();
