// The personal join page (/j/{token}): what the link opens now — awaiting approval, rejected,
// the room password, the waiting room, a countdown, the live player, the replay, or the end —
// kept current without reloading by long-polling GET /api/join/{token}?wait=STATE, and
// attendance heartbeats every 30 s while the video plays.
'use strict';

(function () {
  const { t } = lcText;
  const { el, request, fieldError } = lcUI;
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
    tick();
  }

  function notFound() {
    stopPlayer();
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

  lcText.mountSwitch($('lang'), () => { if (view) render(); });
  $('title').textContent = t('loading');
  lectern.setStatus('loading', t('loading'));
  poll();
})();
