"""Command-line tools (Flask CLI), with progress bars:

    .venv/bin/flask --app backoffice:create_app export applications --format csv --out apps.csv [--province 11 ...]
    .venv/bin/flask --app backoffice:create_app import qualifications FILE.csv|xlsx [--report rejected.csv]
    .venv/bin/flask --app backoffice:create_app jobs reap
    .venv/bin/flask --app backoffice:create_app cleanup [--days N]
    .venv/bin/flask --app backoffice:create_app signing-keys import instance/signing
    .venv/bin/flask --app backoffice:create_app summaries rebuild|check
"""
import click


def register_commands(app):
    app.cli.add_command(export_command)
    app.cli.add_command(import_command)
    app.cli.add_command(audit_command)
    app.cli.add_command(jobs_command)
    app.cli.add_command(signing_keys_command)
    app.cli.add_command(summaries_command)
    from backoffice.background.daily import lapse_command      # also registers the daily periodic task
    app.cli.add_command(lapse_command)
    from backoffice.background.daily import remind_command
    app.cli.add_command(remind_command)
    from backoffice.background.retention import cleanup_command   # also registers the 03:00 periodic task
    app.cli.add_command(cleanup_command)


@click.command('export', help='导出报表（CSV 或 XLSX）')
@click.argument('name')
@click.option('--format', 'fmt', type=click.Choice(['csv', 'xlsx']), default='csv', show_default=True)
@click.option('--out', required=True, type=click.Path(dir_okay=False, writable=True))
@click.option('--province', default='', help='省份代码，如 11')
@click.option('--date-from', default='')
@click.option('--date-to', default='')
@click.option('--business-type', default='')
@click.option('--specialty', default='', help='专业名称，如 建筑工程')
def export_command(name, fmt, out, province, date_from, date_to, business_type, specialty):
    from models import Province, Specialty, database
    from reports import exports, filters
    if name not in exports.EXPORTS:
        raise click.UsageError('报表名称应为：' + '、'.join(exports.EXPORTS))
    with database.connection_context():
        values = {'date_from': date_from, 'date_to': date_to, 'business_type': business_type}
        if province:
            p = Province.get_or_none(Province.code == province)
            if p is None:
                raise click.UsageError(f'省份代码无效：{province}')
            values['province_id'] = str(p.id)
        if specialty:
            s = Specialty.get_or_none(Specialty.name == specialty)
            if s is None:
                raise click.UsageError(f'专业无效：{specialty}')
            values['specialty_id'] = str(s.id)
        try:
            f = filters.parse(values)
        except filters.FilterError as exc:
            raise click.UsageError(str(exc)) from None
        export = exports.EXPORTS[name]
        total = exports.count(export, f)
        if total == 0:
            raise click.ClickException('没有符合条件的数据可导出')
        writer = exports.write_xlsx if fmt == 'xlsx' else exports.write_csv
        with click.progressbar(length=total, label=f'导出 {export.label}') as bar:
            state = {'done': 0}

            def progress(n):
                n = min(n, total)
                bar.update(n - state['done'])
                state['done'] = n
            writer(export, f, out, progress=progress)
    click.echo(f'已导出 {total} 行到 {out}')


@click.command('import', help='导入资格库（qualifications）或外部注册信息（external）')
@click.argument('kind', type=click.Choice(['qualifications', 'external']))
@click.argument('path', type=click.Path(exists=True, dir_okay=False))
@click.option('--report', default='', help='被拒绝行的报告文件（CSV）')
def import_command(kind, path, report):
    from backoffice.background import imports
    from models import database
    with database.connection_context():
        with click.progressbar(length=_count_lines(path), label='导入') as bar:
            state = {'done': 0}

            def progress(n):
                bar.update(max(n - state['done'], 0))
                state['done'] = n
            try:
                result = imports.run(kind, path, progress=progress)
            except imports.ImportError_ as exc:
                raise click.ClickException(exc.message) from None
    click.echo(result.summary())
    if result.rejected:
        out = report or path + '.rejected.csv'
        with open(out, 'wb') as fh:
            fh.write(imports.report_csv(result))
        click.echo(f'被拒绝的行及原因见：{out}')


def _count_lines(path):
    if path.lower().endswith('.xlsx'):
        return 0
    with open(path, 'rb') as fh:
        return max(sum(1 for _ in fh) - 1, 0)


@click.group('jobs', help='后台任务维护')
def jobs_command():
    pass


@jobs_command.command('reap', help='处理进程中断或排队超时的后台任务（重新排队或标记失败）')
def jobs_reap_command():
    from backoffice.background import jobs
    from models import database
    with database.connection_context():
        counts = jobs.reap()
    click.echo(f"重新排队 {counts['requeued']} 个，标记失败 {counts['failed']} 个")


@click.group('audit', help='审计日志 / audit log')
def audit_command():
    pass


@audit_command.command('verify', help='校验审计日志哈希链，指出第一条被改动的记录；断裂时退出码为 1')
@click.option('--batch', default=5000, show_default=True, help='每批读取的记录数')
def audit_verify_command(batch):
    from backoffice import audit
    from models import database
    with database.connection_context():
        result = audit.verify(batch=batch)
    click.echo(result.summary())
    if not result.ok:
        raise SystemExit(1)


@click.group('signing-keys', help='证书二维码签名密钥')
def signing_keys_command():
    pass


@signing_keys_command.command('import', help='把文件目录中的 <kid>.pem 密钥导入数据库（已有的保留不变）')
@click.argument('key_dir', type=click.Path(exists=True, file_okay=False))
def signing_keys_import_command(key_dir):
    from backoffice.issuing import signing
    from models import database
    with database.connection_context():
        added = signing.import_dir(key_dir)
    click.echo(f"导入 {len(added)} 个密钥：{'、'.join(added) or '无'}")


@click.group('summaries', help='首页和统计看板的汇总计数')
def summaries_command():
    pass


@summaries_command.command('rebuild', help='按基础数据全部重新计数（批量导入数据之后执行）')
def summaries_rebuild_command():
    from backoffice.workflow import summaries
    from models import database
    with database.connection_context():
        n = summaries.rebuild()
    click.echo(f'汇总计数已重建：{n} 项')


@summaries_command.command('check', help='与基础数据的全量计数比对；不一致时列出差异，退出码为 1')
def summaries_check_command():
    from backoffice.workflow import summaries
    from models import database
    with database.connection_context():
        stored, real = summaries.stored(), summaries.recount()
    diff = sorted(k for k in set(stored) | set(real) if stored.get(k, 0) != real.get(k, 0))
    for key in diff[:50]:
        click.echo(f'{"/".join(map(str, key))}: 记录 {stored.get(key, 0)}，实际 {real.get(key, 0)}')
    if diff:
        click.echo(f'汇总计数与基础数据不一致：{len(diff)} 项')
        raise SystemExit(1)
    click.echo(f'汇总计数与基础数据一致：{len(real)} 项')
