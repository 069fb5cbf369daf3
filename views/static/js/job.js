// Background job page: poll the status URL (data-status-url on #job) until the job ends.
// Every text shown comes from the server's JSON (backoffice.background.jobs.describe), in Chinese.
(function () {
  var box = document.getElementById('job');
  if (!box || !box.dataset.statusUrl) return;
  var badges = {queued: 'badge-secondary', running: 'badge-primary', done: 'badge-success', failed: 'badge-danger'};
  function show(s) {
    var bar = document.getElementById('bar');
    bar.style.width = s.percent + '%';
    bar.setAttribute('aria-valuenow', s.percent);
    var moving = s.state === 'queued' || s.state === 'running';
    bar.classList.toggle('progress-bar-striped', moving);
    bar.classList.toggle('progress-bar-animated', moving);
    bar.classList.toggle('bg-danger', s.state === 'failed');
    bar.classList.toggle('bg-success', s.state === 'done');
    var state = document.getElementById('state');
    state.textContent = s.state_label;
    state.className = 'badge ' + (badges[s.state] || 'badge-secondary');
    document.getElementById('message').textContent = s.message;
    document.getElementById('progress').textContent = s.progress_text;
    document.getElementById('download').hidden = !s.downloadable;
    document.getElementById('retry').hidden = s.state !== 'failed';
    box.dataset.state = s.state;
    return moving;
  }
  if (box.dataset.state !== 'queued' && box.dataset.state !== 'running') return;
  (function poll() {
    fetch(box.dataset.statusUrl, {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
      .then(function (r) { return r.json(); })
      .then(function (s) { if (show(s)) setTimeout(poll, 1000); })
      .catch(function () { setTimeout(poll, 5000); });
  })();
})();
