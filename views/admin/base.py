"""Secure Flask-Admin base classes: role checks, province scope, 403s, audit, no deletes."""
import peewee as pw
from flask import abort, flash, redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_admin.contrib.peewee import ModelView
from flask_admin.model import template as row_templates, typefmt
from jinja2 import pass_context
from markupsafe import Markup, escape
from flask_login import current_user
from wtforms import validators as wv

from backoffice.roles import ADMIN, PROVINCIAL, ROLES
from backoffice.validators import ValidationError
from backoffice import audit
from backoffice.db import model_rows, row_maker
from models import database
from views.layout import drawn_once

def _guard_select_fields():
    """wtf-peewee's select fields look a submitted value up as a primary key as it comes: '' or 'abc'
    is a database error on PostgreSQL (a 500). A value that cannot be an id is no choice (the field
    says so in Chinese); an empty value is the blank choice, as '__None' is."""
    from wtfpeewee import fields as wpf

    from backoffice.urls import parse_id
    single, multiple = wpf.SelectQueryField, wpf.SelectMultipleQueryField
    get_model, get_model_list, process_formdata = single.get_model, multiple.get_model_list, single.process_formdata
    pre_validate = single.pre_validate

    def safe_pre_validate(self, form):
        data = self.data
        if data is not None and not isinstance(data, self.model) and parse_id(data) is None:
            raise wpf.ValidationError(self.gettext('Not a valid choice.'))
        return pre_validate(self, form)

    def safe_get_model(self, pk):
        return get_model(self, pk) if parse_id(pk) is not None else None

    def safe_get_model_list(self, pk_list):
        return get_model_list(self, [pk for pk in pk_list or () if parse_id(pk) is not None])

    def blank_is_none(self, valuelist):
        if valuelist and valuelist[0] == '' and self.allow_blank:
            valuelist = ['__None']
        return process_formdata(self, valuelist)

    single.get_model, single.process_formdata, single.pre_validate = safe_get_model, blank_is_none, safe_pre_validate
    multiple.get_model_list = safe_get_model_list


_guard_select_fields()


def _chinese_range_separator():
    """Flask-Admin's date-range filters read "起 to 止"; the date picker writes "起 至 止"
    (static/js/zh_locale.js), so a range in either form is read."""
    from flask_admin.model import filters as mf

    def normalised(method):
        def inner(self, value):
            if isinstance(value, str):
                value = value.replace(' 至 ', ' to ')
            return method(self, value)
        inner.chinese_separator = True
        return inner

    for cls in (mf.BaseDateBetweenFilter, mf.BaseDateTimeBetweenFilter, mf.BaseTimeBetweenFilter):
        for name in ('clean', 'validate'):
            method = cls.__dict__[name]
            if not getattr(method, 'chinese_separator', False):
                setattr(cls, name, normalised(method))


_chinese_range_separator()

# Models whose `name` column is a person's name (姓名), not a thing's (名称).
PERSON_NAME_MODELS = {'Person', 'ExternalRegistration', 'User'}


def _yes_no(view, value, name):
    """A boolean column as 是 / 否 (list and details)."""
    return '是' if value else '否'

# Which permission flag guards which built-in endpoint.
_ENDPOINT_FLAGS = {
    'create_view': 'can_create', 'edit_view': 'can_edit', 'delete_view': 'can_delete',
    'details_view': 'can_view_details', 'export': 'can_export', 'ajax_update': 'can_edit',
}


class RoleMixin:
    read_roles = ()

    def is_accessible(self):
        return current_user.is_authenticated and current_user.role in self.read_roles

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for('auth.login', next=request.full_path))
        abort(403)

    def render(self, template, **kwargs):
        kwargs.setdefault('staff_fragment', self._staff_fragment)
        return super().render(template, **kwargs)

    # Fragments that carry the page's CSP nonce, when Flask-Admin is given a nonce generator: never cached.
    _NONCE_FRAGMENTS = frozenset({'head_css', 'tail_js', 'list_head', 'list_tail_js', 'actions_script'})
    # fragments that also vary with the request (a list's query string): at most this many kept per app,
    # and a longer query string is not kept at all; the others (name × role × view × script root, which a
    # proxy's X-Forwarded-Prefix can set) at most STAFF_FRAGMENTS_MAX
    VARYING_FRAGMENTS_MAX, VARY_MAX_LENGTH, STAFF_FRAGMENTS_MAX = 2000, 512, 5000

    def _staff_fragment(self, name, vary=None, caller=None):
        """A part of the staff page layout (admin/staff_base.html) drawn once per role, view and script
        root, then reused: the main menu (which items a user sees depends only on the role: every staff
        view's is_accessible is RoleMixin's and is_visible takes no argument; the active item is this
        view's), the style sheets and scripts (this view's extra_css / extra_js). The cache belongs to
        this app's Admin, which holds the views (another app may register other views)."""
        admin = self.admin
        if name in self._NONCE_FRAGMENTS and admin.csp_nonce_generator:
            return caller()
        user = current_user
        key = (name, user.role if user.is_authenticated else None, self.endpoint, request.script_root)
        if vary is None:
            return drawn_once(admin.__dict__.setdefault('_staff_fragments', {}), key, caller,
                              self.STAFF_FRAGMENTS_MAX)
        # a list's menu, filter form and column headings: what the query string asks for (sort, search,
        # filters, page size) and nothing else of the request or the user
        if len(vary) > self.VARY_MAX_LENGTH:
            return caller()
        return drawn_once(admin.__dict__.setdefault('_staff_fragments_varying', {}), key + (vary,), caller,
                          self.VARYING_FRAGMENTS_MAX)


class StaffIndexView(RoleMixin, AdminIndexView):
    """The back-office home: what waits for the current role."""

    def __init__(self, read_roles, **kw):
        self.read_roles = read_roles
        super().__init__(name='首页', template='admin/home.html', url='/admin', **kw)

    @expose('/')
    def index(self):
        from backoffice.desks.dashboard import home_counts
        from backoffice.workflow.calendar import uncovered_years
        uncovered = uncovered_years() if current_user.role == ADMIN else []
        return self.render(self._template, counts=home_counts(current_user), role_label=ROLES.get(
            current_user.role, ''), uncovered_years=uncovered)


_SELECT_IN_SQL = {}


def _select_in(model, key, values):
    """model's rows whose column key is one of values (SELECT … WHERE key IN (…)). The statement is
    composed once per model, column, number of values and kind of database, then reused: peewee
    composes a 15-column select in about as much time as the database answers it (issue 15)."""
    db = model._meta.database
    cache_key = (model, key.name, len(values), type(getattr(db, 'obj', None) or db))
    sql = _SELECT_IN_SQL.get(cache_key)
    if sql is None:
        sql, _params = model.select().where(key.in_(values)).sql()
        _SELECT_IN_SQL[cache_key] = sql
    return model.raw(sql, *values).objects(row_maker(model))


class _PerPageRowAction(row_templates.BaseListRowAction):
    """A row action whose HTML depends on the row's id alone (view, edit, a link to an endpoint):
    drawn once per page with a placeholder id, then each row's id is put in its place, instead of
    a macro call and a url_for per row (issue 15). A row whose id is not a plain number, or a
    drawing in which the placeholder is not found exactly once, is drawn by the action itself."""
    PLACEHOLDER = 'ROWIDzq9x'

    def __init__(self, action):
        super().__init__(title=action.title)
        self.action = action

    def __getattr__(self, name):
        return getattr(self.action, name)

    def render(self, context, row_id, row):
        cache = context.resolve('row_html_cache')
        text = str(row_id)
        if not isinstance(cache, dict) or not text.isdigit():
            return self.action.render(context, row_id, row)
        key = id(self.action)
        parts = cache.get(key)
        if parts is None:
            html = str(self.action.render(context, self.PLACEHOLDER, row))
            parts = cache[key] = tuple(html.split(self.PLACEHOLDER)) if html.count(self.PLACEHOLDER) == 1 else ()
        if not parts:
            return self.action.render(context, row_id, row)
        return Markup(parts[0] + text + parts[1])


# Actions drawn once per page: their macro reads only the row id, get_url and return_url.
_PER_PAGE_ACTIONS = (row_templates.ViewRowAction, row_templates.ViewPopupRowAction, row_templates.EditRowAction,
                     row_templates.EditPopupRowAction, row_templates.EndpointLinkRowAction)


class SecureModelView(RoleMixin, ModelView):
    """Base of every back-office model view.

    read_roles may list and open records; write_roles may edit (and create, unless
    create_roles says otherwise). Registry data is never deleted from here.
    province_field, when set, limits provincial officers to their own province.
    """
    write_roles = ()
    create_roles = None
    province_field = None

    can_delete = False
    can_view_details = True
    can_export = False
    action_disallowed_list = ['delete']
    # 20 rows by default, as Flask-Admin: a 50-row page cost 35–75 ms of rendering alone (issue 15);
    # a user who wants more picks 50 or 100 (the page-size menu).
    page_size = 20
    can_set_page_size = True
    page_size_options = (20, 50, 100)
    details_modal = False
    list_template = 'admin/model/list.html'
    # Searches that look like a key (ID number, USCC, 注册编号) become exact, indexed lookups
    # instead of Flask-Admin's ILIKE scan: [(compiled regex, normaliser, column)].
    exact_search = ()

    def __init__(self, model, *args, **kwargs):
        labels = {k: v for k, v in LABELS.items()}
        if model.__name__ in PERSON_NAME_MODELS:
            labels['name'] = '姓名'        # a person's name, not a thing's 名称
        labels.update(getattr(self, 'column_labels', None) or {})
        self.column_labels = labels
        # 是/否 for booleans (Flask-Admin shows True/False on details and "name: true" in list titles).
        self.column_type_formatters = {**typefmt.BASE_FORMATTERS, bool: _yes_no,
                                       **(self.column_type_formatters or {})}
        self.column_type_formatters_detail = {**typefmt.DETAIL_FORMATTERS, bool: _yes_no,
                                              **(self.column_type_formatters_detail or {})}
        # An ajax select says what to choose (Flask-Admin's default placeholder is "请选择模型").
        refs = {}
        for name, options in (getattr(self, 'form_ajax_refs', None) or {}).items():
            if isinstance(options, dict):
                options = {'placeholder': f'输入关键字，搜索并选择{labels.get(name, name)}', **options}
            refs[name] = options
        self.form_ajax_refs = refs or None
        # Form labels too: every form field gets its Chinese label unless form_args names one.
        form_args = {k: dict(v) for k, v in (getattr(self, 'form_args', None) or {}).items()}
        for name in model._meta.fields:
            if name in labels:
                form_args.setdefault(name, {}).setdefault('label', labels[name])
        self.form_args = form_args
        super().__init__(model, *args, **kwargs)

    # Name search (issue 15): [(column of this model, Person or Enterprise)]. A word of the search is a
    # fragment of the related person's or enterprise's name, answered from a trigram index
    # (backoffice.desks.staff_lists); Flask-Admin's ILIKE scan is not used for these views.
    name_search = ()
    # [(compiled regex, column)]: a word the regex matches (SQ2026…, 京1110…) is looked up by prefix
    # on the column's index instead of as a name.
    key_prefix_search = ()
    # Lists never count every row: Flask-Admin's own count is off (simple pager); get_list counts
    # no further than LIST_EXACT_COUNT_LIMIT and pages no deeper than LIST_MAX_ROWS rows.
    simple_list_pager = True

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        """A filter value the database refuses (text in a number filter: PostgreSQL raises, SQLite
        compares) is the user's input, answered with a message and an empty list, never a 500."""
        import peewee
        from flask import flash
        from models import database
        try:
            return self._bounded_list(page, sort_column, sort_desc, search, filters, execute, page_size)
        except peewee.DataError:
            database.rollback()
            flash('筛选条件的值无效，请重新选择筛选条件', 'error')
            return (0 if execute else None), ([] if execute else self.model.select().where(False))

    def _bounded_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        from flask import current_app, g
        from backoffice.desks import staff_lists
        g.exact_search = None
        g.list_note = None
        g.list_capped = False
        term = (search or '').strip()
        for pattern, normalise, column in self.exact_search:
            if pattern.match(term):
                g.exact_search = (column == normalise(term))
                search = None
                break
        else:
            if term and (self.name_search or self.key_prefix_search):
                g.exact_search = self._search_condition(term)
                search = None
        if not execute:
            return super().get_list(page, sort_column, sort_desc, search, filters, execute, page_size)
        threshold = current_app.config.get('LIST_EXACT_COUNT_LIMIT', 1000)
        max_rows = current_app.config.get('LIST_MAX_ROWS', 10000)
        size = self.page_size if page_size is None else page_size
        page = page or 0
        _none, query = super().get_list(page, sort_column, sort_desc, search, filters, False, page_size)
        count, g.list_count_label = staff_lists.count_label(query, threshold)
        if g.get('list_capped'):
            # only part of the matching names was searched: the true number is larger than any figure here
            g.list_count_label = f'至少 {count:,} 条' if count is not None else f'超过 {threshold:,} 条'
            count = None
        g.list_has_next = False
        if size and count is None and page * size >= max_rows:
            g.list_last_page = (max_rows - 1) // size
            g.list_note = (f'列表只能翻到前 {max_rows:,} 条（第 {g.list_last_page + 1} 页）；'
                           '请用搜索或筛选缩小范围')
            return None, []
        if page and size and not query._joins:
            # a deep page: the row ids come from the index alone (LIMIT … OFFSET over id entries), then
            # only those rows are read (a "deferred join"; the OFFSET never reads the skipped rows)
            pk = self.model._meta.primary_key
            ids = query.clone().select(pk)
            query = self.model.select().where(pk.in_(ids)).order_by(*(query._order_by or ())).limit(size)
        rows = model_rows(query)
        if count is None:
            g.list_has_next = len(rows) == size and (page + 1) * size < max_rows
        self._prefetch_related(rows)
        return count, rows

    def _search_condition(self, term):
        """Each word must match: a key-like word by prefix on key_prefix_search, any other word as a
        name fragment of the related persons / enterprises (name_search)."""
        import operator
        from functools import reduce
        from flask import g
        from backoffice.desks import staff_lists
        limit = self.NAME_MATCH_LIMIT
        condition = None
        for word in term.split():
            keys = [col for pattern, col in self.key_prefix_search if pattern.match(word)]
            if keys or not self.name_search:
                parts = [staff_lists.prefix_condition(col, word.upper()) for col in keys]
            else:
                parts = []
                for column, related in self.name_search:
                    ids, capped = staff_lists.name_ids(related, word, limit)
                    if capped:
                        g.list_capped = True
                        g.list_note = (f'与“{word}”匹配的名称超过 {limit:,} 个，只列出了其中 {limit:,} 个的记录；'
                                       '请输入更完整的姓名或企业名称')
                    if ids:
                        parts.append(staff_lists.among(column, related, word, ids, limit))
            part = reduce(operator.or_, parts) if parts else pw.SQL('1 = 0')
            condition = part if condition is None else condition & part
        return condition

    NAME_MATCH_LIMIT = 1000

    def _prefetch_related(self, rows):
        """Load the rows' related records shown in the list in one query per column (not one per row)."""
        fields = self.model._meta.fields
        done = set()
        for column, _label in self._list_columns:
            field = fields.get(column.split('.')[0])
            if not isinstance(field, pw.ForeignKeyField) or field.name in done:
                continue
            done.add(field.name)
            ids = {row.__data__.get(field.name) for row in rows} - {None}
            if not ids:
                continue
            rel, key = field.rel_model, field.rel_field
            related = {getattr(obj, key.name): obj for obj in _select_in(rel, key, sorted(ids))}
            for row in rows:
                obj = related.get(row.__data__.get(field.name))
                if obj is not None:
                    row.__rel__[field.name] = obj

    def get_list_row_actions(self):
        return [_PerPageRowAction(a) if type(a) in _PER_PAGE_ACTIONS else a
                for a in super().get_list_row_actions()]

    def render(self, template, **kwargs):
        kwargs.setdefault('row_html_cache', {})      # _PerPageRowAction's drawings, for this page only
        if 'list_columns' in kwargs:                  # the list asks this once per page, not once per cell
            kwargs.setdefault('editable_list_columns',
                              frozenset(c for c, _name in kwargs['list_columns'] if self.is_editable(c)))
            kwargs.setdefault('row_cells', self._cells_drawer([c for c, _name in kwargs['list_columns']]))
        return super().render(template, **kwargs)

    def _cells_drawer(self, columns):
        """A row's cells (`<td class="col-…">value</td>` for each column) drawn in one call: what the
        list template's loop over the columns draws with get_value(row, c), escaped as Jinja escapes it,
        without a template loop, a context call and the type formatters' isinstance walk per cell (a
        queue page of 20 rows has 140 cells). A view that reads its list values another way
        (get_list_value or _get_list_value overridden) is drawn through get_list_value."""
        opened = [(c, Markup('<td class="col-%s">') % c) for c in columns]
        own = (type(self).get_list_value is ModelView.get_list_value
               and type(self)._get_list_value is ModelView._get_list_value)
        value_of = self._list_value if own else self.get_list_value

        @pass_context
        def draw(context, row):
            return Markup(''.join([f'{td}{escape(value_of(context, row, c))}</td>' for c, td in opened]))
        return draw

    def _list_value(self, context, row, name):
        """Flask-Admin's _get_list_value for the list (column_formatters, choices, column_type_formatters:
        the first type formatter the value is an instance of), that formatter found once per type."""
        fmt = self.column_formatters.get(name)
        value = fmt(self, context, row, name) if fmt is not None else self._get_field_value(row, name)
        choices = self._column_choices_map.get(name)
        if choices:
            return choices.get(value) or value
        formatters = self.__dict__.get('_list_type_formatter_of')
        if formatters is None:
            formatters = self._list_type_formatter_of = {}
        kind = type(value)
        try:
            type_fmt = formatters[kind]
        except KeyError:
            type_fmt = formatters[kind] = next((f for t, f in self.column_type_formatters.items()
                                                if isinstance(value, t)), None)
        if type_fmt is None:
            return value
        try:
            return type_fmt(self, value, name)
        except TypeError:               # a formatter of two arguments: Flask-Admin's own handling
            return ModelView._get_list_value(self, context, row, name, self.column_formatters,
                                             self.column_type_formatters)

    @property
    def can_create(self):
        roles = self.write_roles if self.create_roles is None else self.create_roles
        return current_user.is_authenticated and current_user.role in roles

    @property
    def can_edit(self):
        return current_user.is_authenticated and current_user.role in self.write_roles

    def _handle_view(self, name, **kwargs):
        response = super()._handle_view(name, **kwargs)
        if response is not None:
            return response
        flag = _ENDPOINT_FLAGS.get(name)
        if flag and not getattr(self, flag):
            abort(403)
        return None

    search_hint = None

    def search_placeholder(self):
        if self.search_hint:
            return self.search_hint
        names = [self.column_labels.get(c, c) for c in (self.column_searchable_list or ())]
        return '搜索：' + '、'.join(names) if names else '搜索'

    def validate_form(self, form):
        ok = super().validate_form(form)
        # A date that does not parse should say so, not "required".
        for field in form:
            if field.type in ('DateField', 'DateTimeField') and field.raw_data and field.raw_data[0] \
                    and field.data is None:
                field.errors = ['日期无效，请按“年-月-日”填写，例如 2026-01-31']
                ok = False
        return ok

    # --- scope ----------------------------------------------------------
    def scope(self, query):
        if self.province_field is not None and current_user.role == PROVINCIAL:
            field = self.province_field
            if field.model is not self.model:
                query = query.switch(self.model).join(field.model)
            query = query.where(field == current_user.province_id)
        return query

    def get_query(self):
        from flask import g
        query = self.scope(self.model.select())
        condition = g.get('exact_search')
        if condition is not None:
            query = query.where(condition)
        return query

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        form._obj = obj               # lets the Unique validator skip the row being edited
        return form

    def get_one(self, id):
        from backoffice.urls import parse_id
        pk = parse_id(id)               # 'abc', '', 99999999999999999999999: no such row (never a 500)
        if pk is None:
            return None
        row = self.scope(self.model.select()).where(self.model.id == pk).first()
        if row is None and self.province_field is not None and self.model.get_or_none(self.model.id == pk):
            abort(403)                # exists, but outside the officer's province
        return row

    # --- writes ---------------------------------------------------------
    def _save(self, form, model, is_created):
        try:
            with database.atomic():
                before = audit.snapshot(model)
                form.populate_obj(model)
                self._on_model_change(form, model, is_created)
                model.save(force_insert=is_created)
                self._audit_edit(form, model, before, is_created)
        except ValidationError as exc:
            self._field_error(form, exc.field, exc.message)
            return False
        except pw.IntegrityError as exc:
            self._field_error(form, self._integrity_field(exc), '该值已存在或与其他记录冲突，请核对')
            return False
        self.after_model_change(form, model, is_created)
        return model

    def _audit_edit(self, form, model, before, is_created):
        """The audit event of a staff edit: each changed field with its label, old and new value."""
        labels = dict(self.column_labels)
        labels.update({f.name: str(f.label.text) for f in form if getattr(f, 'label', None) and f.label.text})
        choices = {}
        for f in form:
            options = getattr(f, 'choices', None)
            if isinstance(options, (list, tuple)):
                choices[f.name] = {c[0]: c[1] for c in options if isinstance(c, (list, tuple)) and len(c) >= 2}
        changes = audit.field_changes(model, before, labels, created=is_created, choices=choices)
        if not is_created and not changes:
            return
        summary = '、'.join(c['label'] for c in changes)
        verb = '新增记录' if is_created else '修改记录'
        audit.record('create' if is_created else 'update', object_type=self.model._meta.table_name,
                     object_id=model.id, actor=current_user.id, actor_role=current_user.role,
                     comment=f'{self.name}：{verb}' + (f'（{summary}）' if summary and not is_created else ''),
                     changes=changes)

    def create_model(self, form):
        return self._save(form, self.model(), True)

    def update_model(self, form, model):
        return bool(self._save(form, model, False))

    @staticmethod
    def _field_error(form, field, message):
        if field and field in form:
            form[field].errors = list(form[field].errors or []) + [message]
            flash('保存失败：请按提示修改标红的字段', 'error')
        else:
            flash(f'保存失败：{message}', 'error')

    def _integrity_field(self, exc):
        text = str(exc)
        for name in self.model._meta.fields:
            if f'.{name}' in text or f'_{name}_' in text or f'({name})' in text:
                return name
        return None


class DomainCheck:
    """WTForms validator wrapping a backoffice.validators function; stores the normalised value."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, form, field):
        if not field.data:
            return
        try:
            field.data = self.fn(field.data)
        except ValidationError as exc:
            raise wv.ValidationError(exc.message)


class Unique:
    """WTForms validator: no other row of model has this value in column."""

    def __init__(self, model, column, message):
        self.model, self.column, self.message = model, column, message

    def __call__(self, form, field):
        if not field.data:
            return
        query = self.model.select().where(self.column == field.data)
        obj = getattr(form, '_obj', None)
        if obj is not None and obj.id is not None:
            query = query.where(self.model.id != obj.id)
        if query.exists():
            raise wv.ValidationError(self.message)


# Chinese labels for every column name used across the back office.
LABELS = {
    'id': '编号', 'code': '代码', 'name': '名称', 'abbr': '简称', 'text': '内容', 'sort': '排序',
    'joint_review': '需会审', 'id_number': '身份证号', 'gender': '性别', 'birth_date': '出生日期',
    'ethnicity': '民族', 'school': '毕业院校', 'major': '所学专业', 'education': '学历',
    'graduation_date': '毕业时间', 'mobile': '手机号码', 'reg_core': '注册编号数字段',
    'seal_count': '已发印章数', 'created_at': '创建时间', 'updated_at': '更新时间',
    'cert_number': '资格证书管理号', 'holder_name': '姓名（资格库）', 'holder_id_number': '身份证号（资格库）',
    'person': '人员', 'specialty': '专业', 'issue_date': '签发日期', 'uscc': '统一社会信用代码',
    'legal_rep': '法定代表人', 'province': '省份', 'city': '市区', 'address': '详细地址',
    'verified': '已实名认证', 'verified_at': '认证时间', 'enterprise': '聘用企业', 'number': '编号',
    'seal_check': '印章校验码', 'state': '状态', 'registered_on': '注册日期', 'cancelled_on': '注销日期',
    'registration': '注册记录', 'valid_from': '有效期起', 'valid_until': '有效期至',
    'business_type': '业务类型', 'version': '版本', 'contract_start': '劳动合同开始日期',
    'contract_end': '劳动合同结束日期', 'commitment_accepted': '已承诺', 'new_name': '新姓名',
    'new_id_number': '新身份证号', 'change_explanation': '情况说明', 'correction_note': '补正内容',
    'return_reason': '退回原因', 'refusal_text': '不予注册说明', 'submitted_at': '提交时间',
    'reported_at': '上报时间', 'accepted_at': '受理时间', 'decided_at': '决定时间',
    'announced_at': '公告时间', 'deadline': '办理期限', 'accepted_by': '受理人', 'decided_by': '审查人',
    'application': '申请', 'kind': '材料类型', 'original_name': '文件名', 'stored_path': '存储位置',
    'size': '大小（字节）', 'content_type': '文件类型', 'sha256': 'SHA-256', 'check_result': '检查结果',
    'uploaded_at': '上传时间', 'title': '标题', 'created_by': '创建人', 'published_by': '发布人',
    'published_at': '发布时间', 'notice': '公告', 'serial': '证书编号', 'issued_on': '签发日期',
    'use_until': '使用有效期至', 'printed': '已打印', 'object_type': '对象类型', 'object_id': '对象编号',
    'action': '操作', 'actor': '操作人', 'actor_role': '操作人角色', 'from_state': '原状态',
    'to_state': '新状态', 'comment': '意见', 'category': '注册类别', 'reg_number': '注册编号',
    'enterprise_name': '单位名称', 'enterprise_uscc': '单位统一社会信用代码', 'active': '有效',
    'source': '数据来源', 'imported_at': '导入时间', 'username': '用户名', 'role': '角色',
    'failed_logins': '连续失败次数', 'locked_until': '锁定至', 'last_login_at': '最近登录',
    'password': '密码', 'province.name': '省份', 'enterprise.name': '聘用企业', 'person.name': '姓名',
    'specialty.name': '专业', 'registration.number': '注册编号', 'person.id_number': '身份证号',
    'status': '经营状态', 'status_date': '状态日期', 'status_source': '状态来源', 'lapsed_on': '失效日期',
    'end_reason': '终止原因',
}
