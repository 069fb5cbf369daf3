"""Notifications: the outbox (written with the state change, sent after commit), templates,
the message centre's queries, and the daily expiry reminders."""
