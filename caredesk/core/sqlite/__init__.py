"""SQLite for caredesk: Django's backend with writers queued on a file lock (see base.py)."""
