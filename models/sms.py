"""SMS: the outbox of the built-in gateway, and verification codes (stored hashed)."""
import peewee as pw

from .base import BaseModel, now


class SmsMessage(BaseModel):
    """Messages 'sent' by the outbox gateway: the demo and the tests read them here."""
    mobile = pw.CharField(max_length=11, index=True)
    text = pw.CharField(max_length=300)
    created_at = pw.DateTimeField(default=now, index=True)

    def __str__(self):
        return f'{self.mobile}: {self.text}'


class SmsCode(BaseModel):
    mobile = pw.CharField(max_length=11)
    purpose = pw.CharField(max_length=30)                  # signup / submit / ...
    code_hash = pw.CharField(max_length=64)
    created_at = pw.DateTimeField(default=now)
    expires_at = pw.DateTimeField()
    attempts = pw.IntegerField(default=0)
    used = pw.BooleanField(default=False)

    class Meta:
        indexes = ((('mobile', 'purpose', 'created_at'), False),)

    def __str__(self):
        return f'{self.mobile} {self.purpose}'
