// Flask-Admin's batch-action menu without inline onclick handlers (see views/templates/admin/actions.html).
(function () {
  document.addEventListener('click', function (ev) {
    var link = ev.target.closest ? ev.target.closest('[data-admin-action]') : null;
    if (!link) return;
    ev.preventDefault();
    if (window.modelActions) window.modelActions.execute(link.dataset.adminAction);
  });
})();
