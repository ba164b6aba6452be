// The replay page (/replay/{replay key}/{session}): plays one recorded session on demand.
'use strict';

(function () {
  const [, , key = '', id = ''] = location.pathname.split('/').map(decodeURIComponent);
  const video = document.getElementById('video');

  async function load() {
    let s;
    try {
      s = await lectern.getJSON('/api/replays/' + encodeURIComponent(key) + '/' +
        encodeURIComponent(id));
    } catch (e) {
      document.getElementById('title').textContent = 'Recording not found';
      lectern.setStatus('missing', e.status === 404 ? 'There is no recording at this address.'
        : 'Cannot reach the server; reload to try again.');
      return;
    }
    document.getElementById('title').textContent = s.webinar.title;
    document.title = s.webinar.title + ' (replay) — lectern';
    const back = document.getElementById('back');
    back.href = s.webinar.watch_url;
    back.hidden = false;
    if (!s.replay_url) {
      lectern.setStatus('missing', 'This recording is not available.');
      return;
    }
    lectern.setStatus(s.state === 'live' ? 'live' : 'replay', s.state === 'live'
      ? 'Recording in progress — you are watching from the beginning'
      : 'Replay · ' + lectern.formatDuration(s.duration_s));
    if (s.download_url) {
      const dl = document.getElementById('download');
      dl.href = s.download_url;
      dl.hidden = false;
    }
    lectern.attach(video, s.replay_url, {
      live: false,
      onFatal: (msg) => lectern.setStatus('error', msg),
    });
  }
  load();
})();
