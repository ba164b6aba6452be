// Shared by the watch and replay pages: JSON fetches, the status line, and attaching an HLS
// stream to a <video> with hls.js (served by lectern itself) or the browser's own HLS support.
'use strict';

window.lectern = (function () {
  async function getJSON(url) {
    const res = await fetch(url, { cache: 'no-store', credentials: 'same-origin' });
    if (!res.ok) {
      const err = new Error('HTTP ' + res.status);
      err.status = res.status;
      throw err;
    }
    return res.json();
  }

  function setStatus(state, text) {
    const el = document.getElementById('status');
    el.dataset.state = state;
    el.textContent = text;
  }

  // Plays `url` in `video`. Returns { url, destroy() }. onFatal(message) is called when the
  // stream cannot be played at all; network hiccups and media errors are retried.
  function attach(video, url, { live, onFatal } = {}) {
    const handle = { url, hls: null, destroy() {} };
    const play = () => video.play().catch(() => { /* autoplay refused: the controls remain */ });
    if (window.Hls && window.Hls.isSupported()) {
      const hls = new window.Hls({
        lowLatencyMode: !!live,
        backBufferLength: live ? 30 : 90,
        // Keep retrying a live stream that is briefly unavailable (presenter reconnecting).
        manifestLoadingMaxRetry: live ? 6 : 2,
        levelLoadingMaxRetry: live ? 6 : 2,
      });
      let retries = 0;
      hls.on(window.Hls.Events.ERROR, (_event, data) => {
        if (!data.fatal) return;
        const Hls = window.Hls;
        if (data.type === Hls.ErrorTypes.MEDIA_ERROR && retries++ < 5) {
          hls.recoverMediaError();
        } else if (data.type === Hls.ErrorTypes.NETWORK_ERROR && live && retries++ < 30) {
          // A stream that has just gone live has no playlist for its first seconds, and one
          // whose presenter is reconnecting may answer 404 for a moment: try again.
          const manifest = data.details === Hls.ErrorDetails.MANIFEST_LOAD_ERROR ||
            data.details === Hls.ErrorDetails.MANIFEST_LOAD_TIMEOUT ||
            data.details === Hls.ErrorDetails.MANIFEST_PARSING_ERROR;
          setTimeout(() => (manifest ? hls.loadSource(url) : hls.startLoad()), 1000);
        } else if (onFatal) {
          onFatal('The video cannot be played (' + data.details + ').');
        }
      });
      hls.on(window.Hls.Events.FRAG_BUFFERED, () => { retries = 0; });
      hls.on(window.Hls.Events.MANIFEST_PARSED, play);
      hls.loadSource(url);
      hls.attachMedia(video);
      handle.hls = hls;
      handle.destroy = () => hls.destroy();
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      video.src = url; // Safari plays HLS itself
      video.addEventListener('loadedmetadata', play, { once: true });
      handle.destroy = () => { video.removeAttribute('src'); video.load(); };
    } else if (onFatal) {
      onFatal('This browser cannot play the video (no HLS and no Media Source support).');
    }
    return handle;
  }

  function formatDuration(seconds) {
    const s = Math.round(seconds || 0);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const mm = String(m).padStart(h ? 2 : 1, '0'), ss = String(r).padStart(2, '0');
    return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
  }

  return { getJSON, setStatus, attach, formatDuration };
})();
