"""Staff accounts for the console: roles and centres, passwords, sessions, lock-out, audit log."""
