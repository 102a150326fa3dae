#!/usr/bin/env bash
# The browser test: the Django example served by runserver, driven by two
# headless Chromium sessions through Selenium.  Runs inside pg_virtualenv.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3   # Debian's: python3-django, python3-selenium, python3-psycopg2
for x in /usr/bin/chromium /usr/bin/chromedriver; do
	[ -x "$x" ] || { echo "browser: $x is missing (make test installs chromium and chromium-driver)"; exit 1; }
done
$PY -c 'import django, selenium, psycopg2' || { echo "browser: python3-django, python3-selenium or python3-psycopg2 is missing"; exit 1; }
cd "$here"
$PY test_edit_form.py
echo "browser: screenshots in test/browser/artifacts/"
