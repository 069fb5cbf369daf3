"""The public and portal pages' frame (templates/base.html): the parts that depend on nothing of the
request but its script root — the style sheets and scripts, and the menu an anonymous visitor sees — are
drawn once per app and reused. The verification page, the busiest page, built thirteen addresses with
url_for on every request for them (issue 10)."""
from flask import current_app, request
from markupsafe import Markup


# The script root can come from a proxy's X-Forwarded-Prefix (ProxyFix): entries for at most this many
# are kept, and any other is drawn each time, so that a client sending a new prefix on every request
# cannot grow the cache.
MAX_ENTRIES = 32


def page_fragment(name, caller=None):
    """`{% call page_fragment('name') %}…{% endcall %}`: the block drawn once per app and script root.
    Only for a block that reads nothing of the request, the user or the page but addresses."""
    cache = current_app.extensions.setdefault('registry_page_fragments', {})
    key = (name, request.script_root)
    html = cache.get(key)
    if html is None:
        html = Markup(str(caller()))
        if len(cache) < MAX_ENTRIES:
            cache[key] = html
    return html


def init_app(app):
    app.jinja_env.globals['page_fragment'] = page_fragment
