"""The code's map stays as docs/ARCHITECTURE.md draws it: capability packages, no import circles."""
import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ('backoffice', 'views', 'reports', 'models', 'seed', 'print_templates')
WIRING = {'__init__', 'config', 'db', 'auth', 'roles', 'access', 'validators', 'limits', 'headers', 'logs', 'health',
          'urls', 'wsgi', 'gunicorn_conf', 'metrics',
          'redirects', 'audit', 'storage'}
CAPABILITIES = {'workflow', 'intake', 'issuing', 'desks', 'background', 'notify', 'data', 'api'}


def _modules():
    mods = {}
    for top in PACKAGES:
        for folder, _dirs, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if name.endswith('.py'):
                    path = os.path.join(folder, name)
                    mod = os.path.relpath(path, ROOT)[:-3].replace(os.sep, '.')
                    mods[mod[:-9] if mod.endswith('.__init__') else mod] = path
    return mods


def _import_graph():
    mods = _modules()
    graph = {m: set() for m in mods}
    for mod, path in mods.items():
        package = mod if path.endswith('__init__.py') else mod.rsplit('.', 1)[0]
        for node in ast.walk(ast.parse(open(path, encoding='utf-8').read())):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ''
                if node.level:
                    parts = package.split('.')
                    base = '.'.join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
                for alias in node.names:
                    target = f'{base}.{alias.name}'
                    if target in mods:
                        graph[mod].add(target)
                    elif base in mods:
                        graph[mod].add(base)
            elif isinstance(node, ast.Import):
                graph[mod].update(a.name for a in node.names if a.name in mods)
        graph[mod].discard(mod)
    return graph


def _cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circles():
    assert _cycles(_import_graph()) == []


def test_cycle_detector_sees_a_circle():
    assert _cycles({'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': {'a'}}) == [['a', 'b', 'c']]


def test_backoffice_top_level_is_wiring_and_capability_packages():
    here = os.path.join(ROOT, 'backoffice')
    modules = {n[:-3] for n in os.listdir(here) if n.endswith('.py')}
    packages = {n for n in os.listdir(here) if os.path.isfile(os.path.join(here, n, '__init__.py'))}
    assert modules <= WIRING, f'put {sorted(modules - WIRING)} into a capability package'
    assert packages <= CAPABILITIES, f'new package {sorted(packages - CAPABILITIES)}: add it to docs/ARCHITECTURE.md'


def test_workflow_vocabulary_imports_nothing_of_the_workflow():
    graph = _import_graph()
    assert not {m for m in graph['backoffice.workflow.states'] if m.startswith('backoffice')}


def test_architecture_doc_names_every_capability_module():
    doc = open(os.path.join(ROOT, 'docs', 'ARCHITECTURE.md'), encoding='utf-8').read()
    missing = [m for m in _modules() if m.startswith('backoffice.') and m.count('.') == 2
               and f'`{m.rsplit(".", 1)[1]}`' not in doc]
    assert missing == [], f'docs/ARCHITECTURE.md does not mention {missing}'
