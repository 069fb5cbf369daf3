// Background job page: poll the status URL (data-status-url on #bar) until the job ends.
(function () {
  var bar = document.getElementById('bar');
  if (!bar || !bar.dataset.statusUrl) return;
  var labels = {queued: '排队中', running: '进行中', done: '已完成', failed: '失败'};
  (function poll() {
    fetch(bar.dataset.statusUrl).then(function (r) { return r.json(); }).then(function (s) {
      var pct = s.total ? Math.floor(100 * s.progress / s.total) : 0;
      bar.style.width = pct + '%'; bar.textContent = s.progress + '/' + s.total;
      document.getElementById('state').textContent = labels[s.state] + ' ' + s.message;
      if (s.state === 'done') document.getElementById('download').style.display = '';
      else if (s.state === 'failed') document.getElementById('retry').style.display = '';
      else setTimeout(poll, 1000);
    });
  })();
})();
