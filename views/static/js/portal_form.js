// Application form (views/templates/portal/form.html): SMS code button, the 聘用企业 suggestions,
// asynchronous uploads (the page is never reloaded, nothing typed is lost) and a warning before
// leaving a page with unsaved input. URLs come from data attributes; no inline script (CSP).
(function () {
  const csrf = document.querySelector('meta[name=csrf-token]').content;
  const form = document.getElementById('main-form');

  // --- unsaved input: warn before leaving -----------------------------------------------------
  // (a file chosen but not uploaded counts too; the step's buttons upload it with the draft)
  let dirty = false, submitting = false;
  const pending = new Set();
  if (form) {
    form.addEventListener('input', ev => { if (ev.target.type !== 'file') dirty = true; });
    form.addEventListener('change', ev => {
      if (ev.target.type !== 'file') dirty = true;
      else if (ev.target.files.length) pending.add(ev.target.id); else pending.delete(ev.target.id);
    });
    form.addEventListener('submit', () => { submitting = true; });   // the server saves the draft first
  }
  window.addEventListener('beforeunload', ev => {
    if ((!dirty && !pending.size) || submitting) return;
    ev.preventDefault();
    ev.returnValue = '';          // Chromium shows its own "leave site?" text
  });
  window.portalForm = {isDirty: () => dirty || pending.size > 0};

  // --- the error summary: focus it so screen readers announce it -----------------------------
  const summary = document.getElementById('error-summary');
  if (summary && !location.hash) summary.focus();

  // --- SMS code --------------------------------------------------------------------------------
  const send = document.getElementById('send-code');
  if (send) send.addEventListener('click', function () {
    fetch(send.dataset.url, {method: 'POST', headers: {'X-CSRFToken': csrf}}).then(r => r.json()).then(d => {
      document.getElementById('code-status').textContent = d.message;
      if (d.ok) { let left = d.wait; send.disabled = true;
        const t = setInterval(() => { left -= 1; send.textContent = left + '秒后可重新获取';
          if (left <= 0) { clearInterval(t); send.disabled = false; send.textContent = '获取短信验证码'; } }, 1000); }
    });
  });

  // --- asynchronous uploads --------------------------------------------------------------------
  const showError = (field, message) => {
    const box = document.getElementById('error-' + field);
    if (!box) return;
    box.textContent = message || '';
    box.hidden = !message;
  };
  if (form && form.dataset.uploadUrl) {
    form.querySelectorAll('button.upload-button').forEach(button => {
      button.addEventListener('click', ev => {
        ev.preventDefault();
        const kind = button.value, input = document.getElementById('file-' + kind);
        const status = document.getElementById('status-' + kind);
        if (!input || !input.files.length) { showError('upload_' + kind, '请选择要上传的文件'); return; }
        const data = new FormData();
        data.append('csrf_token', csrf);
        data.append('kind', kind);
        data.append('file', input.files[0]);
        button.disabled = true;
        status.textContent = '正在上传…';
        fetch(form.dataset.uploadUrl, {method: 'POST', headers: {'X-CSRFToken': csrf, 'Accept': 'application/json'},
                                       body: data, credentials: 'same-origin'})
          .then(r => r.json().catch(() => ({ok: false, message: '上传失败（服务器返回 ' + r.status + '），请稍后重试'})))
          .then(d => {
            button.disabled = false;
            if (!d.ok) {
              status.textContent = '';
              showError('upload_' + kind, d.message);
              input.classList.add('is-invalid');
              return;
            }
            showError('upload_' + kind, '');
            input.classList.remove('is-invalid');
            input.value = '';
            pending.delete(input.id);
            status.textContent = d.message;
            const list = form.querySelector('.uploaded-list[data-kind="' + kind + '"]');
            const item = document.createElement('span');
            item.className = 'ml-2 uploaded';
            item.dataset.kind = kind;
            const link = document.createElement('a');
            link.href = d.material.url; link.target = '_blank'; link.textContent = d.material.name;
            item.appendChild(link);
            if (d.material.check) item.appendChild(document.createTextNode(' （' + d.material.check + '）'));
            if (kind !== 'other') list.textContent = '';          // one file of each kind but 其他材料
            list.appendChild(item);
          })
          .catch(() => { button.disabled = false; status.textContent = '';
            showError('upload_' + kind, '网络错误，上传未完成，请重试'); });
      });
    });
  }

  // --- 聘用企业 suggestions ---------------------------------------------------------------------
  const box = document.getElementById('enterprise-search');
  if (!box) return;
  const list = document.getElementById('enterprise-suggestions'), hint = document.getElementById('enterprise-hint');
  const fill = e => { document.getElementById('uscc-hidden').value = e.uscc; box.value = e.name;
    document.getElementById('ent-uscc').value = e.uscc; document.getElementById('ent-legal').value = e.legal_rep;
    document.getElementById('ent-province').value = e.province; document.getElementById('ent-city').value = e.city;
    document.getElementById('ent-address').value = e.address; list.innerHTML = ''; hint.textContent = '';
    dirty = true;
    const text = document.getElementById('commitment-text');
    if (text) text.textContent = text.textContent.replace(/与.*?签订了劳动合同/, '与' + e.name + '签订了劳动合同'); };
  let timer;
  box.addEventListener('input', () => { clearTimeout(timer); document.getElementById('uscc-hidden').value = '';
    timer = setTimeout(() => fetch(box.dataset.url + '?q=' + encodeURIComponent(box.value)).then(r => r.json()).then(d => {
      list.innerHTML = ''; hint.textContent = d.hint || '';
      d.items.forEach(e => { const a = document.createElement('a'); a.href = '#'; a.className = 'list-group-item list-group-item-action enterprise-option';
        a.textContent = e.name + '（' + e.uscc + '）'; a.addEventListener('click', ev => { ev.preventDefault(); fill(e); }); list.appendChild(a); });
    }), 250); });
})();
