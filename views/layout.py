"""The public and portal pages' frame (templates/base.html): the parts that depend on nothing of the
request but its script root — the style sheets and scripts, and the menu an anonymous visitor sees — are
drawn once per app and reused. The verification page, the busiest page, built thirteen addresses with
url_for on every request for them (issue 10)."""
from flask import current_app, request
from markupsafe import Markup


# The script root can come from a proxy's X-Forwarded-Prefix (ProxyFix): a client sending a new prefix
# on every request must not grow a cache keyed by it, so every such cache is bounded.
MAX_ENTRIES = 32


def drawn_once(cache, key, caller, limit):
    """The HTML `caller` draws, kept in `cache` under `key` and reused; the cache is emptied when it
    holds `limit` entries (what is in use is drawn again at once). The one mechanism of the public
    frame (page_fragment) and the staff layout's fragments (views/admin/base.RoleMixin)."""
    html = cache.get(key)
    if html is None:
        if len(cache) >= limit:
            cache.clear()
        html = cache[key] = Markup(str(caller()))
    return html


def page_fragment(name, caller=None):
    """`{% call page_fragment('name') %}…{% endcall %}`: the block drawn once per app and script root.
    Only for a block that reads nothing of the request, the user or the page but addresses."""
    cache = current_app.extensions.setdefault('registry_page_fragments', {})
    return drawn_once(cache, (name, request.script_root), caller, MAX_ENTRIES)


def init_app(app):
    app.jinja_env.globals['page_fragment'] = page_fragment
