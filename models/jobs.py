"""Background jobs and the print / download logs."""
import peewee as pw

from .accounts import User
from .base import BaseModel, now
from .notices import Certificate


class Job(BaseModel):
    """A long-running task (batch printing, exports, imports) and its progress."""
    kind = pw.CharField(max_length=30, index=True)
    title = pw.CharField(max_length=200)
    state = pw.CharField(max_length=12, default='queued', index=True)   # queued/running/done/failed
    progress = pw.IntegerField(default=0)
    total = pw.IntegerField(default=0)
    message = pw.TextField(default='')
    params = pw.TextField(default='{}')                    # JSON
    result_path = pw.CharField(max_length=300, default='')
    created_by = pw.ForeignKeyField(User, on_delete='RESTRICT', backref='+')
    created_at = pw.DateTimeField(default=now, index=True)
    finished_at = pw.DateTimeField(null=True)
    started_at = pw.DateTimeField(null=True)
    heartbeat_at = pw.DateTimeField(null=True)             # last sign of life (queued, claimed, progress)
    retries = pw.IntegerField(default=0)                   # automatic re-queues by the reaper

    def __str__(self):
        return self.title


class PrintLog(BaseModel):
    certificate = pw.ForeignKeyField(Certificate, backref='print_logs', on_delete='RESTRICT')
    printed_by = pw.ForeignKeyField(User, on_delete='RESTRICT', backref='+')
    job = pw.ForeignKeyField(Job, null=True, on_delete='RESTRICT', backref='print_logs')
    printed_at = pw.DateTimeField(default=now, index=True)
    reprint = pw.BooleanField(default=False)
    reason = pw.TextField(default='')

    def __str__(self):
        return f'{self.certificate} {self.printed_at}'


class DownloadLog(BaseModel):
    certificate = pw.ForeignKeyField(Certificate, backref='download_logs', on_delete='RESTRICT')
    user = pw.ForeignKeyField(User, null=True, on_delete='RESTRICT', backref='+')
    downloaded_at = pw.DateTimeField(default=now, index=True)
    remote_addr = pw.CharField(max_length=64, default='')

    def __str__(self):
        return f'{self.certificate} {self.downloaded_at}'
