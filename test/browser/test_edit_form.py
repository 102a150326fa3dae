"""The Django example in a real browser: two headless Chromium sessions, alice
and bob, on one order (the order's own fields).  Saves a screenshot of each
step in artifacts/."""
import time
import unittest

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from harness import SITE, DemoCase, admin

BASE = SITE + "/orders/42"


class EditFormTest(DemoCase):
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
        # bob's page listens (its EventSource's server side has run LISTEN)
        WebDriverWait(bob, 60).until(EC.presence_of_element_located((By.CSS_SELECTOR, "body[data-listening]")))
        q = alice.find_element(By.ID, "qty")
        q.clear()
        q.send_keys("7")
        t0 = time.monotonic()
        self.submit(alice, "save")
        self.assertEqual(self.text(alice, "#result"), "Saved.")
        WebDriverWait(bob, 60).until(EC.text_to_be_present_in_element((By.ID, "banner"), "alice saved this order"))
        self.assertLess(time.monotonic() - t0, 2.5)
        # save also released: bob learns the row is free
        WebDriverWait(bob, 60).until(EC.text_to_be_present_in_element((By.ID, "banner"), "alice left this order"))
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
