#!/usr/bin/env bash
# The browser tests: the Django example served by runserver, driven by two
# headless Chromium sessions through Selenium: the order page's own fields
# (test_edit_form), the order with its lines as a formset (test_order_lines),
# and the admin with ReclockAdminMixin (test_admin).  Runs inside
# pg_virtualenv (or with any PG* variables naming a superuser).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3   # Debian's: python3-django, python3-selenium, python3-psycopg2
for x in /usr/bin/chromium /usr/bin/chromedriver; do
	[ -x "$x" ] || { echo "browser: $x is missing (make test installs chromium and chromium-driver)"; exit 1; }
done
$PY -c 'import django, selenium, psycopg2' || { echo "browser: python3-django, python3-selenium or python3-psycopg2 is missing"; exit 1; }
cd "$here"
$PY -m unittest -v test_edit_form test_order_lines test_admin
echo "browser: screenshots in test/browser/artifacts/"
