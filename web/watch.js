// The watch page: follows the webinar's state and plays it live; when it ends, offers the replay.
// A webinar that is not open to anyone (registration, room password) is not played here: the
// page says how to get in.
'use strict';

(function () {
  const slug = decodeURIComponent(location.pathname.split('/')[2] || '');
  const video = document.getElementById('video');
  const placeholder = document.getElementById('placeholder');
  const placeholderText = document.getElementById('placeholder-text');
  const unmute = document.getElementById('unmute');
  let player = null;
  let timer = null;
  let stopped = false;

  // The state is asked every 2 s while waiting, but only every 10 s while the video plays: with
  // thousands of viewers these requests are the one load on the server that grows with the
  // audience. The end of a live stream is noticed at once anyway, from the playlist itself.
  function schedule() {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(refresh, player ? 10000 : 2000);
  }

  // link: { href, text, id } or none.
  function showPlaceholder(text, link) {
    placeholderText.textContent = text;
    if (link) {
      placeholderText.append(' ');
      const a = document.createElement('a');
      a.href = link.href;
      a.textContent = link.text;
      a.id = link.id;
      placeholderText.append(a);
    }
    placeholder.hidden = false;
    video.hidden = true;
  }

  // Why this page cannot play the webinar live, when the server gives it no stream (hls_url is
  // null): { state, status, text, link } for the status line and the placeholder, else null.
  function gateOf(w) {
    if (w.hls_url) return null;
    if (w.password_required) {
      return { state: 'password', status: 'Password protected',
        text: 'This webinar is protected by a password. Open it with the personal join link ' +
          'you were given.' };
    }
    return { state: 'registration', status: 'Registration required',
      text: 'This webinar is for registered attendees. Already registered? Open the personal ' +
        'link you were sent.',
      link: { href: '/w/' + encodeURIComponent(slug), text: 'Register to watch',
        id: 'register-link' } };
  }

  function showGate(gate) {
    stopPlayer();
    lectern.setStatus(gate.state, gate.status);
    showPlaceholder(gate.text, gate.link);
  }

  function stopPlayer() {
    if (player) player.destroy();
    player = null;
    unmute.hidden = true;
  }

  function startPlayer(url) {
    stopPlayer();
    placeholder.hidden = true;
    video.hidden = false;
    player = lectern.attach(video, url, {
      live: true,
      onFatal: (msg) => { stopPlayer(); showPlaceholder(msg); },
    });
    if (player.hls) {
      // EXT-X-ENDLIST: the presenter stopped; ask for the state (and the replay) right away.
      player.hls.on(window.Hls.Events.LEVEL_UPDATED, (_e, data) => {
        if (data.details && !data.details.live) refresh();
      });
    }
    unmute.hidden = !video.muted;
    // For diagnostics and the browser tests: the player's distance from the live edge is
    // Date.now() - lecternPlayer.hls.playingDate (EXT-X-PROGRAM-DATE-TIME based).
    window.lecternPlayer = player;
  }

  function listRecordings(sessions) {
    const list = document.getElementById('replay-list');
    const done = sessions.filter((s) => s.state === 'ended' && s.replay_page_url);
    list.replaceChildren(...done.map((s) => {
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = s.replay_page_url;
      a.textContent = new Date(s.started_at).toLocaleString() + ' (' +
        lectern.formatDuration(s.duration_s) + ')';
      li.append(a);
      return li;
    }));
    document.getElementById('replays').hidden = done.length === 0;
    return done;
  }

  /* A webinar that takes registrations: a link to its registration page (/w/{slug}). */
  function offerRegistration(w) {
    if (w.access !== 'registration' || document.getElementById('register')) return;
    const p = document.createElement('p');
    const a = document.createElement('a');
    a.id = 'register';
    a.href = '/w/' + encodeURIComponent(w.slug);
    a.textContent = 'Register for this webinar';
    p.append(a);
    document.getElementById('status').after(p);
  }

  async function refresh() {
    try {
      await update();
    } finally {
      schedule();
    }
  }

  async function update() {
    let w;
    try {
      w = await lectern.getJSON('/api/webinars/' + encodeURIComponent(slug));
    } catch (e) {
      if (e.status === 404) {
        document.getElementById('title').textContent = 'Webinar not found';
        lectern.setStatus('missing', 'There is no webinar at this address.');
        showPlaceholder('Check the link you were given.');
        stopped = true;
      } else {
        lectern.setStatus('offline', 'Cannot reach the server; retrying…');
      }
      return;
    }
    document.getElementById('title').textContent = w.title;
    document.title = w.title + ' — lectern';
    offerRegistration(w);
    const done = listRecordings(w.sessions || []);
    const gate = gateOf(w);
    if (w.live === 'running' || w.live === 'reconnecting') {
      if (gate) return showGate(gate);
      if (w.live === 'running') lectern.setStatus('live', 'Live');
      else lectern.setStatus('reconnecting', 'Live — the presenter is reconnecting…');
      if (!w.playable && !player) {
        showPlaceholder('The webinar is starting…');
      } else if (!player || player.url !== w.hls_url) {
        startPlayer(w.hls_url);
      }
      return;
    }
    stopPlayer();
    const last = done[done.length - 1];
    if (w.state === 'ended' && last) {
      lectern.setStatus('ended', 'Ended — watch the replay');
      showPlaceholder('The webinar has ended.',
        { href: last.replay_page_url, text: 'Watch the replay', id: 'replay-link' });
    } else if (gate) {
      showGate(gate);
    } else if (w.state === 'ended' || w.state === 'live') {
      // 'live' with the stream offline: it has just stopped and its session is being closed
      // (the recording made final); the replay follows in a moment.
      lectern.setStatus('ended', 'Ended');
      showPlaceholder('The webinar has ended.');
    } else {
      lectern.setStatus('scheduled', 'Not started yet');
      showPlaceholder('The webinar has not started yet. This page starts playing by itself when it does.');
    }
  }

  unmute.addEventListener('click', () => {
    video.muted = false;
    unmute.hidden = true;
    video.play().catch(() => {});
  });
  refresh();
})();
