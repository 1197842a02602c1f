"""SQLite for caredesk: Django's backend, with writers handed the database in turn."""
