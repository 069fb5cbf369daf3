"""SMS: the outbox of the built-in gateway, and verification codes (stored hashed)."""
import peewee as pw

from .base import BaseModel, now


class SmsMessage(BaseModel):
    """Every message sent, whatever the gateway (the outbox gateway keeps the text for the demo; other
    gateways keep it with the code blanked). Sends per number and per client are counted here."""
    mobile = pw.CharField(max_length=11, index=True)
    text = pw.CharField(max_length=300)
    created_at = pw.DateTimeField(default=now, index=True)
    client = pw.CharField(max_length=64, default='')         # the requesting client's address
    purpose = pw.CharField(max_length=30, default='')        # signup / submit / ...
    gateway = pw.CharField(max_length=20, default='outbox')
    status = pw.CharField(max_length=10, default='sent')     # sending / sent / failed
    error = pw.CharField(max_length=300, default='')         # the gateway's error, when failed

    class Meta:
        indexes = ((('mobile', 'created_at'), False), (('client', 'created_at'), False))

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
