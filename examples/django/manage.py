#!/usr/bin/env python3
"""The reclock Django example: `python3 manage.py runserver` (see README.md)."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "editdemo.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
