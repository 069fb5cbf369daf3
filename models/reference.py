"""Reference data: provinces, specialties, refusal grounds, cancellation reasons."""
import peewee as pw

from .base import BaseModel


class Province(BaseModel):
    code = pw.CharField(max_length=2, unique=True)          # GB/T 2260 prefix
    name = pw.CharField(max_length=20)
    abbr = pw.CharField(max_length=2)                         # 京, 沪 ...

    def __str__(self):
        return self.name


class Specialty(BaseModel):
    code = pw.CharField(max_length=4, unique=True)
    name = pw.CharField(max_length=20, unique=True)           # 建筑工程 ...
    abbr = pw.CharField(max_length=4)                         # seal abbreviation
    joint_review = pw.BooleanField(default=False)             # needs another ministry's opinion
    sort = pw.IntegerField(default=0)

    def __str__(self):
        return self.name


class CodedText(BaseModel):
    """A numbered legal text (abstract: each subclass has its own table)."""
    code = pw.CharField(max_length=4, unique=True)
    text = pw.CharField(max_length=200)
    sort = pw.IntegerField(default=0)

    def __str__(self):
        return self.text


class RefusalGround(CodedText):
    """Art. 15 grounds for 不予注册."""


class CancellationReason(CodedText):
    """Art. 16/17 situations that lead to 注销."""
