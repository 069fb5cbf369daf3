"""Service desks: the helpdesk, the public registry query and the back-office home counts."""
