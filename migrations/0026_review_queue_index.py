"""The 审查 queue's order from its index (issue 15): WHERE state = 'accepted' ORDER BY deadline, id.

(state, deadline) left PostgreSQL sorting every application of the earliest deadline by id before it
could keep a page of them (hundreds at national scale); with the id in the index the first page and a
deep page (the list's deferred join) are read in order. The new index serves every query the old one
did (its first two columns), so the old one goes."""


def up(migrator, db):
    db.execute_sql('CREATE INDEX IF NOT EXISTS application_state_deadline_id ON application (state, deadline, id)')
    db.execute_sql('DROP INDEX IF EXISTS application_state_deadline')


def down(migrator, db):
    db.execute_sql('CREATE INDEX IF NOT EXISTS application_state_deadline ON application (state, deadline)')
    db.execute_sql('DROP INDEX IF EXISTS application_state_deadline_id')
