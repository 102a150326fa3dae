"""The Django example in a real browser: two headless Chromium sessions, alice
and bob, on one order.  Saves a screenshot of each step in artifacts/."""
import os
import socket
import subprocess
import sys
import time
import unittest

import psycopg2
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "django")
ART = os.path.join(HERE, "artifacts")
DB = "reclock_web"
PORT = int(os.environ.get("PGPORT", "5432")) + 2000
BASE = f"http://127.0.0.1:{PORT}/orders/42"


def admin(sql, db=DB):
    conn = psycopg2.connect(dbname=db)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall() if cur.description else None
    conn.close()
    return rows


def browser():
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--window-size=900,700"):
        o.add_argument(a)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


class EditFormTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(ART, exist_ok=True)
        admin(f"DROP DATABASE IF EXISTS {DB}", db="postgres")
        admin("DROP ROLE IF EXISTS webapp", db="postgres")
        admin(f"CREATE DATABASE {DB}", db="postgres")
        with open(os.path.join(EXAMPLE, "schema.sql")) as f:
            admin(f.read())
        admin("CREATE ROLE webapp LOGIN PASSWORD 'webapp-pw'; GRANT SELECT, UPDATE ON orders TO webapp")
        env = dict(os.environ, RECLOCK_DB=DB, RECLOCK_DB_USER="webapp", RECLOCK_DB_PASSWORD="webapp-pw",
                   PGHOST="127.0.0.1")
        cls.server = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{PORT}", "--noreload"],
                                      cwd=EXAMPLE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        cls.alice = browser()
        cls.bob = browser()

    @classmethod
    def tearDownClass(cls):
        for d in (cls.alice, cls.bob):
            d.quit()
        cls.server.terminate()
        cls.server.wait(10)

    def shot(self, driver, name):
        driver.save_screenshot(os.path.join(ART, name))

    def text(self, driver, css):
        return WebDriverWait(driver, 5).until(EC.presence_of_element_located((By.CSS_SELECTOR, css))).text

    def submit(self, driver, button):
        """Click a submit button and wait for the next page."""
        old = driver.find_element(By.TAG_NAME, "html")
        driver.find_element(By.ID, button).click()

        def replaced(_):
            # the old page is gone: a stale reference, or (Chromium 156, mid-navigation)
            # "Node with given id does not belong to the document"
            try:
                old.is_enabled()
                return False
            except WebDriverException:
                return True

        WebDriverWait(driver, 5).until(replaced)

    def test_two_editors(self):
        alice, bob = self.alice, self.bob
        # alice opens the order: she holds it
        alice.get(BASE + "/edit?user=alice")
        self.assertIn("You are editing", self.text(alice, "#lockinfo"))
        self.shot(alice, "01-alice-editing.png")

        # bob opens it: told who holds it and until when; read-only
        bob.get(BASE + "/edit?user=bob")
        self.assertRegex(self.text(bob, "#lockinfo"), r"Locked by alice until \d\d:\d\d UTC")
        self.assertFalse(bob.find_element(By.ID, "qty").is_enabled())
        self.assertEqual(bob.find_elements(By.ID, "save"), [])
        self.shot(bob, "02-bob-locked-out.png")

        # alice saves: bob's page shows the banner within 2 seconds
        time.sleep(0.5)  # let bob's EventSource connect
        q = alice.find_element(By.ID, "qty")
        q.clear()
        q.send_keys("7")
        t0 = time.monotonic()
        self.submit(alice, "save")
        self.assertEqual(self.text(alice, "#result"), "Saved.")
        WebDriverWait(bob, 2).until(EC.text_to_be_present_in_element((By.ID, "banner"), "alice saved this order"))
        self.assertLess(time.monotonic() - t0, 2.5)
        # save also released: bob learns the row is free
        WebDriverWait(bob, 2).until(EC.text_to_be_present_in_element((By.ID, "banner"), "alice left this order"))
        self.shot(bob, "03-bob-banner.png")
        self.assertEqual(admin("SELECT qty FROM orders WHERE id = 42"), [(7,)])

        # bob reloads: now he can edit
        bob.get(BASE + "/edit?user=bob")
        self.assertIn("You are editing", self.text(bob, "#lockinfo"))
        self.assertTrue(bob.find_element(By.ID, "qty").is_enabled())
        self.assertEqual(bob.find_element(By.ID, "qty").get_attribute("value"), "7")
        self.shot(bob, "04-bob-editing.png")

        # bob's form goes stale: an administrator breaks his lock, alice takes
        # the order and saves; bob then submits what he typed
        self.assertEqual(admin("SELECT reclock_break('orders', '42')"), [(True,)])
        alice.get(BASE + "/edit?user=alice")
        self.assertIn("You are editing", self.text(alice, "#lockinfo"))
        q = alice.find_element(By.ID, "qty")
        q.clear()
        q.send_keys("8")
        self.submit(alice, "save")
        self.assertEqual(self.text(alice, "#result"), "Saved.")
        n = bob.find_element(By.ID, "note")
        n.clear()
        n.send_keys("bob's stale note")
        self.submit(bob, "save")
        result = self.text(bob, "#result")
        self.assertIn("Nothing was overwritten", result)
        rows = [r.text for r in bob.find_elements(By.CSS_SELECTOR, "#diff tr")]
        self.assertIn("qty 7 8 7", rows)
        self.shot(bob, "05-bob-stale-diff.png")
        self.assertEqual(admin("SELECT qty, note FROM orders WHERE id = 42"), [(8, "ship Tuesday")])


if __name__ == "__main__":
    unittest.main(verbosity=2)
