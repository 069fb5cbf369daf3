// Accessible names for the form fields that Flask-Admin's scripts build in the browser: the list
// filters (operation and value of each filter row, named after the filter) and Select2's search box.
(function () {
  'use strict';
  function name(el, text) {
    if (!el.getAttribute('aria-label') && !(el.labels && el.labels.length)) el.setAttribute('aria-label', text);
  }
  function labelAll() {
    document.querySelectorAll('table.filters tr').forEach(function (row) {
      var link = row.querySelector('.remove-filter');
      var filter = link ? link.textContent.replace('×', '').trim() : '筛选';
      row.querySelectorAll('select.filter-op').forEach(function (el) { name(el, filter + '：条件'); });
      row.querySelectorAll('.filter-val').forEach(function (el) { name(el, filter + '：值'); });
    });
    document.querySelectorAll('.select2-search__field').forEach(function (el) { name(el, '输入以查找选项'); });
  }
  function start() {
    labelAll();
    new MutationObserver(labelAll).observe(document.body, {childList: true, subtree: true});
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
