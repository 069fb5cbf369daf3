"""Applicant intake: the applicant's applications and the enterprise inbox, identity providers,
SMS gateways and codes, uploads and the photo tool."""
