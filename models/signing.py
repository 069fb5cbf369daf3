"""Ed25519 keys of the certificates' offline-verifiable QR payload, kept in the shared database so
that every node signs with the same key (backoffice.issuing.signing, store 'database')."""
import peewee as pw

from .base import BaseModel, now


class SigningKey(BaseModel):
    kid = pw.CharField(max_length=32, unique=True)
    public_key = pw.CharField(max_length=64)        # base64 of the 32-byte raw public key
    private_key = pw.TextField()                    # Fernet token of the PKCS8 PEM (key from the settings)
    created_at = pw.DateTimeField(default=now)

    class Meta:
        table_name = 'signing_key'
