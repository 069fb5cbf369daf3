"""Issuing: certificates and verification, announcements (公告), provincial batch printing and the
PDF documents drawn from registry records."""
