// Flask-Admin's batch-action menu without inline onclick handlers (see views/templates/admin/actions.html).
// A batch decision asks for confirmation naming the action and every selected application (the
// number shown in the row's 申请编号 column); the server checks each row again whatever is answered here.
(function () {
  function readJson(id) {
    var el = document.getElementById(id);
    try { return el ? JSON.parse(el.textContent) : {}; } catch (e) { return {}; }
  }

  function rowLabel(box) {
    var row = box.closest ? box.closest('tr') : null;
    var cell = row ? row.querySelector('td.col-number') : null;
    return cell ? cell.textContent.trim() : '';
  }

  function submitAction(name, boxes) {
    var form = document.getElementById('action_form');
    form.querySelector('#action').value = name;
    Array.prototype.forEach.call(form.querySelectorAll('input.action-checkbox'), function (el) { el.remove(); });
    boxes.forEach(function (box) {
      var copy = document.createElement('input');
      copy.type = 'hidden';
      copy.name = box.name;
      copy.value = box.value;
      copy.className = 'action-checkbox';
      form.appendChild(copy);
    });
    form.submit();
  }

  document.addEventListener('click', function (ev) {
    var link = ev.target.closest ? ev.target.closest('[data-admin-action]') : null;
    if (!link) return;
    ev.preventDefault();
    var name = link.dataset.adminAction;
    var boxes = Array.prototype.slice.call(document.querySelectorAll('input.action-checkbox:checked'));
    if (!boxes.length) {
      window.alert(readJson('message-data') || '请先选择记录');
      return;
    }
    var confirmations = readJson('actions-confirmation-data');
    if (confirmations[name]) {
      var numbers = boxes.map(rowLabel).filter(function (n) { return n; });
      var text = numbers.length === boxes.length
        ? '确定对以下 ' + numbers.length + ' 件申请执行“' + link.textContent.trim() + '”吗？\n' + numbers.join('、')
        : '确定对所选 ' + boxes.length + ' 项执行“' + link.textContent.trim() + '”吗？';
      if (!window.confirm(text)) return;
    }
    submitAction(name, boxes);
  });

  // <form data-confirm-selected="上报">: a batch of ticked rows (checkboxes carrying data-number),
  // confirmed by naming every application; with nothing ticked, data-confirm-none is shown instead.
  document.addEventListener('submit', function (ev) {
    var form = ev.target;
    if (!form || !form.dataset || !form.dataset.confirmSelected) return;
    var boxes = Array.prototype.slice.call(form.querySelectorAll('input[type=checkbox][data-number]:checked'));
    if (!boxes.length) {
      ev.preventDefault();
      window.alert(form.dataset.confirmNone || '请先勾选');
      return;
    }
    var numbers = boxes.map(function (b) { return b.dataset.number; });
    if (!window.confirm('确定' + form.dataset.confirmSelected + '以下 ' + numbers.length + ' 件业务吗？\n' +
                        numbers.join('、'))) {
      ev.preventDefault();
    }
  }, true);
})();
