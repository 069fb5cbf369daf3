// Application form: SMS code button and the 聘用企业 suggestions (URLs come from data attributes).
(function () {
  const csrf = document.querySelector('meta[name=csrf-token]').content;
  const send = document.getElementById('send-code');
  if (send) send.addEventListener('click', function () {
    fetch(send.dataset.url, {method: 'POST', headers: {'X-CSRFToken': csrf}}).then(r => r.json()).then(d => {
      document.getElementById('code-status').textContent = d.message;
      if (d.ok) { let left = d.wait; send.disabled = true;
        const t = setInterval(() => { left -= 1; send.textContent = left + '秒后可重新获取';
          if (left <= 0) { clearInterval(t); send.disabled = false; send.textContent = '获取短信验证码'; } }, 1000); }
    });
  });
  const box = document.getElementById('enterprise-search');
  if (!box) return;
  const list = document.getElementById('enterprise-suggestions'), hint = document.getElementById('enterprise-hint');
  const fill = e => { document.getElementById('uscc-hidden').value = e.uscc; box.value = e.name;
    document.getElementById('ent-uscc').value = e.uscc; document.getElementById('ent-legal').value = e.legal_rep;
    document.getElementById('ent-province').value = e.province; document.getElementById('ent-city').value = e.city;
    document.getElementById('ent-address').value = e.address; list.innerHTML = ''; hint.textContent = '';
    document.getElementById('commitment-text').textContent = document.getElementById('commitment-text').textContent.replace(/与.*?签订了劳动合同/, '与' + e.name + '签订了劳动合同'); };
  let timer;
  box.addEventListener('input', () => { clearTimeout(timer); document.getElementById('uscc-hidden').value = '';
    timer = setTimeout(() => fetch(box.dataset.url + '?q=' + encodeURIComponent(box.value)).then(r => r.json()).then(d => {
      list.innerHTML = ''; hint.textContent = d.hint || '';
      d.items.forEach(e => { const a = document.createElement('a'); a.href = '#'; a.className = 'list-group-item list-group-item-action enterprise-option';
        a.textContent = e.name + '（' + e.uscc + '）'; a.addEventListener('click', ev => { ev.preventDefault(); fill(e); }); list.appendChild(a); });
    }), 250); });
})();
