// Behaviour shared by every page, loaded as a file (the Content-Security-Policy allows no inline script).
// <form data-confirm="…">: ask before submitting.
document.addEventListener('submit', function (ev) {
  var form = ev.target;
  if (form && form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    ev.preventDefault();
    ev.stopImmediatePropagation();
  }
}, true);
// <a href="#"> links are handled by scripts (menus, filters): never follow them.
document.addEventListener('click', function (ev) {
  var link = ev.target.closest ? ev.target.closest('a[href="#"]') : null;
  if (link) ev.preventDefault();
});
