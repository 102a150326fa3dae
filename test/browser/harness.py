"""What the browser tests share: a fresh database with the example's schema,
Django's own tables (migrated as the database owner, used by the web role),
the example served by runserver as the web role, two headless Chromium
users, and the waits.  Connects with libpq's PG* variables (pg_virtualenv's)."""
import atexit
import os
import socket
import subprocess
import sys
import time
import unittest

import psycopg2
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.normpath(os.path.join(HERE, "..", "..", "examples", "django"))
ART = os.path.join(HERE, "artifacts")
DB = "reclock_web"
PORT = int(os.environ.get("PGPORT", "5432")) + 2000
SITE = f"http://127.0.0.1:{PORT}"
PASSWORD = "reclock-demo-pw"  # alice's and bob's admin password

# the web role: the example's tables (as the application needs them) and
# Django's own (sessions, auth, admin log, content types) with their sequences
WEB_GRANTS = """
GRANT SELECT, UPDATE, DELETE ON orders TO regress_webapp;
GRANT SELECT, INSERT, UPDATE, DELETE ON order_lines TO regress_webapp;
"""
DJANGO_GRANTS = r"""
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.oid::regclass AS rel, c.relkind FROM pg_class c
           WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'S')
             AND (c.relname LIKE 'auth\_%' OR c.relname LIKE 'django\_%')
  LOOP
    IF r.relkind = 'r' THEN
      EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO regress_webapp', r.rel);
    ELSE
      EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO regress_webapp', r.rel);
    END IF;
  END LOOP;
END $$;
"""


def admin(sql, params=None, db=DB):
    """Run SQL as the test's (superuser) role, autocommit; rows or None."""
    conn = psycopg2.connect(dbname=db)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def manage(*args, env=None):
    subprocess.run([sys.executable, "manage.py", *args], cwd=EXAMPLE, check=True,
                   env=dict(os.environ, RECLOCK_DB=DB, **(env or {})), stdout=subprocess.DEVNULL)


def reset_schema():
    """The example's tables as schema.sql makes them: order 42 with lines 1, 2, 3."""
    admin("DROP TABLE IF EXISTS order_lines, orders")
    with open(os.path.join(EXAMPLE, "schema.sql")) as f:
        admin(f.read())
    admin(WEB_GRANTS)


def browser(width=1000, height=1000):
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              f"--window-size={width},{height}"):
        o.add_argument(a)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


_prepared = False


def prepare_database():
    """Once per process: a fresh database, the web role (regress_webapp),
    Django's tables (migrated by the database owner, used by the web role),
    alice and bob as admin users; database and role are dropped at exit."""
    global _prepared
    if _prepared:
        return
    admin(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)", db="postgres")
    admin("DROP ROLE IF EXISTS regress_webapp", db="postgres")
    admin(f"CREATE DATABASE {DB}", db="postgres")
    admin("CREATE ROLE regress_webapp LOGIN PASSWORD 'webapp-pw'")
    manage("migrate", "--noinput")
    admin(DJANGO_GRANTS)
    for u in ("alice", "bob"):
        manage("createsuperuser", "--noinput", "--username", u, "--email", f"{u}@example.com",
               env={"DJANGO_SUPERUSER_PASSWORD": PASSWORD})
    _prepared = True

    def drop():  # at exit, after the server (registered later, stopped first)
        admin(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)", db="postgres")
        admin("DROP ROLE IF EXISTS regress_webapp", db="postgres")
    atexit.register(drop)


_shared = None


def shared():
    """Once per process: the example served by runserver as the web role,
    and alice's and bob's browsers; stopped at exit."""
    global _shared
    if _shared is None:
        env = dict(os.environ, RECLOCK_DB=DB, RECLOCK_DB_USER="regress_webapp", RECLOCK_DB_PASSWORD="webapp-pw",
                   PGHOST="127.0.0.1")
        log = open(os.path.join(ART, "server.log"), "w")
        server = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{PORT}", "--noreload"],
                                  cwd=EXAMPLE, env=env, stdout=log, stderr=subprocess.STDOUT)
        for _ in range(1200):  # up to two minutes on a busy machine
            try:
                socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        _shared = (server, browser(), browser())

        def stop():
            for d in _shared[1:]:
                d.quit()
            server.terminate()
            server.wait(10)
            log.close()
        atexit.register(stop)
    return _shared


class DemoCase(unittest.TestCase):
    """The example's tables afresh for each test class; alice and bob browse
    the example from a blank page."""

    @classmethod
    def setUpClass(cls):
        os.makedirs(ART, exist_ok=True)
        prepare_database()
        reset_schema()
        _, cls.alice, cls.bob = shared()

    def setUp(self):
        for d in (self.alice, self.bob):
            d.get("about:blank")  # no page of an earlier test left open (heartbeats, EventSource)

    def shot(self, driver, name):
        driver.save_screenshot(os.path.join(ART, name))

    def text(self, driver, css):
        return WebDriverWait(driver, 60).until(EC.presence_of_element_located((By.CSS_SELECTOR, css))).text

    def submit(self, driver, button, by=By.ID):
        """Click a submit button and wait for the next page."""
        old = driver.find_element(By.TAG_NAME, "html")
        driver.find_element(by, button).click()

        def replaced(_):
            # the old page is gone: a stale reference, or (Chromium 156, mid-navigation)
            # "Node with given id does not belong to the document"
            try:
                old.is_enabled()
                return False
            except WebDriverException:
                return True

        WebDriverWait(driver, 60).until(replaced)
        WebDriverWait(driver, 60).until(lambda d: d.execute_script("return document.readyState") == "complete")

    def type(self, driver, element_id, value):
        e = driver.find_element(By.ID, element_id)
        e.clear()
        e.send_keys(value)

    def live_locks(self):
        return admin("SELECT relation::text, key, holder FROM reclock_locks ORDER BY 1, 2")
