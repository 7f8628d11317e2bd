// The console's live parts: progress bars and statuses from the
// sentinel's event stream, and confirmations before destructive forms.
'use strict';

(function () {
  // Numbers as the server writes them: groups of three digits apart by a
  // thin space.
  const fmt = { format: function (n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, '\u2009'); } };

  function setBar(el) {
    const p = Math.max(0, Math.min(100, Number(el.dataset.percent) || 0));
    el.style.width = p + '%';
  }
  document.querySelectorAll('[data-field="bar"]').forEach(setBar);

  document.querySelectorAll('form[data-confirm]').forEach(function (f) {
    f.addEventListener('submit', function (e) {
      if (!window.confirm(f.dataset.confirm)) e.preventDefault();
    });
  });

  if (!document.body.hasAttribute('data-live') || !window.EventSource) return;

  let reloading = null;
  function reloadSoon() {
    if (reloading) return;
    reloading = setTimeout(function () { window.location.reload(); }, 300);
  }

  const events = new EventSource('/console/events');
  // The stream starts with a digest of the state; a page rendered from
  // another one missed a change and reloads.
  events.addEventListener('state', function (e) {
    if (JSON.parse(e.data).digest !== document.body.dataset.digest) reloadSoon();
  });
  events.addEventListener('job', function (e) {
    const j = JSON.parse(e.data);
    const card = document.querySelector('[data-job="' + CSS.escape(j.id) + '"]');
    if (!card) {
      if (document.querySelector('.jobs')) reloadSoon(); // a job of another tab
      return;
    }
    const p = j.total > 0 ? Math.floor(j.completed * 100 / j.total) : 0;
    const bar = card.querySelector('[data-field="bar"]');
    bar.dataset.percent = p;
    setBar(bar);
    card.querySelector('[role="progressbar"]').setAttribute('aria-valuenow', p);
    card.querySelector('[data-field="progress"]').textContent =
      fmt.format(j.completed) + ' / ' + fmt.format(j.total) + ' iterations · ' + p + '%';
    const status = card.querySelector('[data-field="status"]');
    if (status.textContent !== j.status) {
      status.textContent = j.status;
      status.className = 'status status-' + j.status;
      card.dataset.status = j.status;
      const waiting = card.querySelector('[data-field="waiting"]');
      if (waiting && j.status === 'running') waiting.remove();
    }
    if (j.status === 'completed' || j.status === 'failed') reloadSoon(); // the result, or the error
  });
  events.addEventListener('node', function () {
    if (document.querySelector('[data-nodes]')) reloadSoon();
  });
  events.addEventListener('reset', reloadSoon);
})();
