"""Statistics, charts and exports for supervisors and provincial officers."""
