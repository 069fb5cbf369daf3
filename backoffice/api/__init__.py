"""The open API's rules (issue 14): clients and their secrets, bearer tokens, scopes, the read log,
the registration change feed and the resource queries. Web-facing code is in views/api/."""
