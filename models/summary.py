"""Summary counters (issue 15): the figures of the back-office home and the unfiltered dashboard,
kept up to date in the transaction of every change that affects them (backoffice.workflow.summaries)."""
import peewee as pw

from .base import BaseModel


class SummaryCount(BaseModel):
    """One counter: `metric` for a province (0 = none) and up to two keys (state, month, type, date …).
    Only ever changed by `UPDATE … SET n = n + ?` (an upsert), never read-modify-write."""
    metric = pw.CharField(max_length=16)
    province = pw.IntegerField(default=0)
    k1 = pw.CharField(max_length=16, default='')
    k2 = pw.CharField(max_length=16, default='')
    n = pw.BigIntegerField(default=0)

    class Meta:
        table_name = 'summary_count'
        # (metric, k1): a range of dates over every province (expiring soon, deadlines still ahead)
        indexes = ((('metric', 'province', 'k1', 'k2'), True), (('metric', 'k1'), False))

    def __str__(self):
        return f'{self.metric}/{self.province}/{self.k1}/{self.k2}={self.n}'
