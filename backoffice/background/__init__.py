"""Background work: the job queue and Job progress, bulk exports and imports, CLI commands."""
