"""The `caredesk` console script: Django's management commands, with kebab-case names."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caredesk.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    argv[0] = "caredesk"
    # `caredesk load-model` is the management command `load_model`.
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
