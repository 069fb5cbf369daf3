"""The API's routes: each reads its arguments, authenticates the bearer token, and calls backoffice.api."""
import functools
import orjson

from flask import Response, g, request
from flask_smorest import Blueprint

from backoffice import limits
from backoffice.api import clients, feed, queries, scopes, tokens
from backoffice.api.scopes import ApiError

from . import schemas as s

bp = Blueprint('api', __name__, url_prefix='/api/v1', description='一级建造师注册管理信息系统开放接口')


def _bearer():
    header = request.headers.get('Authorization', '')
    kind, _, token = header.partition(' ')
    if kind.lower() != 'bearer' or not token.strip():
        raise ApiError(401, '缺少访问令牌：请先调用 POST /api/v1/token，再以 Authorization: Bearer <令牌> 访问',
                       error='invalid_request', headers={'WWW-Authenticate': 'Bearer realm="api"'})
    return token.strip()


def authorized(*any_of):
    """The view needs a valid bearer token (and one of the scopes `any_of`, when given); counts the
    client's rate limit. Documents the security requirement and the 401 / 403 / 429 answers."""
    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            client = tokens.client_for(_bearer())
            limits.check('RATELIMIT_API', client.client_id)
            if any_of:
                scopes.require(client, *any_of)
            g.api_client = client
            return view(client, *args, **kwargs)
        decorated = bp.doc(security=[{'oauth2': list(any_of)}, {'bearerAuth': []}])(inner)
        for code, text in ((401, '访问令牌缺失、无效或已过期'), (403, '客户端没有所需权限范围'), (429, '超过该客户端的调用频率限制')):
            decorated = bp.alt_response(code, schema=s.ErrorSchema, description=text)(decorated)
        return decorated
    return wrap


def _basic_credentials():
    auth = request.authorization
    if auth is not None and auth.type == 'basic':
        return auth.username, auth.password
    return None, None


@bp.route('/token', methods=['POST'])
@bp.arguments(s.TokenRequestSchema, location='form')
@bp.response(200, s.TokenSchema)
@bp.alt_response(401, schema=s.ErrorSchema, description='客户端标识或密钥不正确，或客户端已停用')
@bp.alt_response(429, schema=s.ErrorSchema, description='请求过于频繁')
@bp.doc(security=[])
def token(args):
    """换取访问令牌（OAuth2 客户端凭证模式）

    表单字段 grant_type=client_credentials，client_id 与 client_secret 放在表单中或以 HTTP Basic 认证传送。
    令牌有效期见 expires_in（秒）；过期后重新换取。
    """
    limits.check('RATELIMIT_API_TOKEN', limits.client_key())
    basic_id, basic_secret = _basic_credentials()
    client_id = args.get('client_id') or basic_id
    secret = args.get('client_secret') or basic_secret
    if not client_id or not secret:
        raise ApiError(401, '请提供 client_id 与 client_secret', error='invalid_client',
                       headers={'WWW-Authenticate': 'Basic realm="api"'})
    client = clients.authenticate(client_id, secret)
    if client is None:
        raise ApiError(401, '客户端标识或密钥不正确，或客户端已停用', error='invalid_client',
                       headers={'WWW-Authenticate': 'Basic realm="api"'})
    access_token, seconds = tokens.issue(client)
    return {'access_token': access_token, 'token_type': 'Bearer', 'expires_in': seconds,
            'scope': ' '.join(sorted(client.scope_set))}


@bp.route('/persons')
@bp.arguments(s.PersonArgs, location='query')
@bp.response(200, s.PersonSchema)
@bp.alt_response(400, schema=s.ErrorSchema, description='身份证号与注册编号须且只能提供一项')
@bp.alt_response(404, schema=s.ErrorSchema, description='未找到，或不在客户端的范围内')
@authorized(*scopes.PERSON_READ)
def person(client, args):
    """按身份证号或注册编号查询注册人员

    权限：registry:read（省级客户端限本省注册），或 enterprise:self（限本企业）。身份证号默认遮蔽，具有 idnumber:full
    时返回完整号码。每次查询记入读取日志。
    """
    return queries.find_person(client, args.get('id_number'), args.get('reg_number'))


@bp.route('/registrations')
@bp.arguments(s.RegistrationListArgs, location='query')
@bp.response(200, s.RegistrationPageSchema)
@authorized(*scopes.PERSON_READ)
def registrations(client, args):
    """注册记录列表（按 id 键集分页）

    权限：registry:read（省级客户端限本省）或 enterprise:self（限本企业）。
    """
    return queries.list_registrations(client, args['after'], args['limit'], args.get('state'))


@bp.route('/registrations/changes')
@bp.arguments(s.FeedArgs, location='query')
@bp.response(200, s.ChangePageSchema)
@authorized('registry:read')
def changes(client, args):
    """注册变更增量数据流

    返回序号大于 cursor 的注册变更（注册生效、增项、延续、个人信息变更、专业到期、失效、注销），按序号排列；
    把返回的 next_cursor 作为下一次的 cursor。变更按提交顺序编号，断点续读不丢不重。省级客户端只收到本省的变更。
    """
    # already JSON-ready (feed.page): sent as it is, without a second pass through the schema, and
    # encoded by orjson (the standard encoder took a quarter of a page's time, bench/api_feed_bench.py)
    return Response(orjson.dumps(feed.page(client, args['cursor'], args['limit'])), mimetype='application/json')


@bp.route('/enterprises')
@bp.arguments(s.PageArgs, location='query')
@bp.response(200, s.EnterprisePageSchema)
@authorized(*scopes.PERSON_READ)
def enterprises(client, args):
    """企业列表（按 id 键集分页；省级客户端限本省，企业客户端只有本企业）"""
    return queries.list_enterprises(client, args['after'], args['limit'])


@bp.route('/enterprises/<string:uscc>')
@bp.response(200, s.EnterpriseDetailSchema)
@bp.alt_response(404, schema=s.ErrorSchema, description='未找到，或不在客户端的范围内')
@authorized(*scopes.PERSON_READ)
def enterprise(client, uscc):
    """按统一社会信用代码查询企业"""
    return queries.get_enterprise(client, uscc)


@bp.route('/announcements')
@bp.arguments(s.PageArgs, location='query')
@bp.response(200, s.NoticePageSchema)
@authorized()
def announcements(client, args):
    """已发布的公告列表（任何有效令牌均可读取）"""
    return queries.list_announcements(args['after'], args['limit'])


@bp.route('/announcements/<int:notice_id>/items')
@bp.arguments(s.PageArgs, location='query')
@bp.response(200, s.NoticeItemPageSchema)
@bp.alt_response(404, schema=s.ErrorSchema, description='公告不存在或尚未发布')
@authorized()
def announcement_items(client, args, notice_id):
    """公告的条目（与公开页面相同，身份证号遮蔽）"""
    return queries.announcement_items(notice_id, args['after'], args['limit'])


@bp.route('/applications/<string:number>')
@bp.response(200, s.ApplicationStatusSchema)
@bp.alt_response(404, schema=s.ErrorSchema, description='未找到，或不属于客户端所在省份')
@authorized('applications:read')
def application(client, number):
    """按申请编号查询办理状态（applications:read，限客户端所在省份）"""
    return queries.application_status(client, number)


@bp.route('/certificates/verify/<string:token>')
@bp.response(200, s.CertificateStatusSchema)
@bp.alt_response(422, schema=s.ErrorSchema, description='核验码签名不符')
@authorized('certificates:verify')
def verify_certificate(client, token):
    """核验电子证书（返回实时状态：注销、失效等离线核验无法得知的状态）"""
    return queries.verify_certificate(client, token)


@bp.route('/stats')
@bp.arguments(s.StatsArgs, location='query')
@bp.response(200, s.StatsSchema)
@bp.alt_response(422, schema=s.ErrorSchema, description='省份代码无效')
@authorized('stats:read')
def stats(client, args):
    """统计数据（有效注册按省份、按专业，即将到期，审批决定数；省级客户端限本省）"""
    return queries.statistics(client, args.get('province'))
