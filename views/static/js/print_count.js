// Print page: once a condition changes, the count shown no longer applies; say so until 统计数量 is pressed.
(function () {
  var box = document.getElementById('print-count');
  if (!box) return;
  var form = box.closest('form');
  var button = form.querySelector('button[value="print"]');
  function stale() {
    box.className = 'alert alert-warning';
    box.textContent = '条件已修改：请点击“统计数量”，查看按新条件将打印多少本证书。';
    if (button) { button.textContent = '生成打印文件'; button.disabled = false; }
  }
  form.querySelectorAll('select, input[type=date], input[type=checkbox]').forEach(function (el) {
    el.addEventListener('change', stale);
  });
})();
