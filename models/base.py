"""Shared peewee base: one database proxy, bound at start-up by backoffice.db."""
import datetime

import peewee as pw

database = pw.DatabaseProxy()


def now():
    return datetime.datetime.now().replace(microsecond=0)


class BaseModel(pw.Model):
    class Meta:
        database = database
        legacy_table_names = False
