"""ReclockAdminMixin in the Django admin: the order's change view with its
lines as an inline, under one lock on the order (holder = the admin user).
alice and bob in headless Chromium; the database rows are the judge."""
import unittest

from selenium.webdriver.common.by import By

from harness import PASSWORD, SITE, DemoCase, admin, reset_schema

CHANGE = "/admin/orders/order/42/change/"
FIRST_LINES = [(1, "widget", 10), (2, "gadget", 3), (3, "sprocket", 25)]


def lines():
    return admin("SELECT id, product, qty FROM order_lines WHERE order_id = 42 ORDER BY id")


def order():
    return admin("SELECT customer, qty, note FROM orders WHERE id = 42")


class AdminTest(DemoCase):
    def setUp(self):
        super().setUp()
        reset_schema()
        self.assertEqual(lines(), FIRST_LINES)

    def open_change(self, driver, user):
        """Log in as user (afresh) and open order 42's change view."""
        driver.get(SITE + "/admin/logout/")
        driver.get(SITE + "/admin/login/?next=" + CHANGE)
        self.type(driver, "id_username", user)
        self.type(driver, "id_password", PASSWORD)
        self.submit(driver, "#login-form input[type=submit]", by=By.CSS_SELECTOR)
        self.assertTrue(driver.current_url.endswith(CHANGE), driver.current_url)
        return self.text(driver, "#reclock-lockinfo")

    def editable(self, driver):
        return [e.get_attribute("name") for e in driver.find_elements(
            By.CSS_SELECTOR, "#order_form input:not([type=hidden]):not([type=submit]), #order_form textarea")]

    def save(self, driver):
        self.submit(driver, "input[name=_save]", by=By.CSS_SELECTOR)

    def test_locked_by_banner_read_only_inlines_and_save(self):
        alice, bob = self.alice, self.bob
        self.assertIn("You are editing this order", self.open_change(alice, "alice"))
        self.assertIn("lines-0-qty", self.editable(alice))
        self.assertIn("lines-1-DELETE", self.editable(alice))
        self.assertEqual(self.live_locks(), [("orders", "42", "alice")])
        # the page's heartbeat (what its timer posts every 20 s) extends alice's lock
        before = admin("SELECT expires_at FROM reclock_locks")[0][0]
        beat = alice.execute_async_script("""
            const done = arguments[arguments.length - 1], f = document.getElementById('order_form');
            fetch(document.getElementById('reclock-lockinfo').dataset.heartbeat, { method: 'POST',
                  body: new URLSearchParams({ token: f.elements._reclock_token.value,
                                              csrfmiddlewaretoken: f.elements.csrfmiddlewaretoken.value }) })
              .then((r) => r.json()).then(done);""")
        self.assertTrue(beat["live"])
        self.assertGreater(admin("SELECT expires_at FROM reclock_locks")[0][0], before)

        # bob: who holds it and until when; the order and its lines read-only
        self.assertRegex(self.open_change(bob, "bob"), r"Locked by alice until \d\d:\d\d UTC")
        self.assertEqual(self.editable(bob), [])
        self.assertEqual(bob.find_elements(By.NAME, "_save"), [])
        self.assertIn("widget", self.text(bob, "#lines-group"))
        self.shot(bob, "22-admin-bob-locked.png")

        # alice changes the order and its lines and saves: written, lock released
        self.type(alice, "id_customer", "ACME Corporation")
        self.type(alice, "id_lines-0-qty", "11")
        self.type(alice, "id_lines-3-product", "nut")
        self.type(alice, "id_lines-3-qty", "7")
        self.shot(alice, "21-admin-alice-editing.png")
        self.save(alice)
        self.assertIn("was changed successfully", self.text(alice, ".messagelist"))
        self.assertEqual(order(), [("ACME Corporation", 5, "ship Tuesday")])
        self.assertEqual([r[1:] for r in lines()], [("widget", 11), ("gadget", 3), ("sprocket", 25), ("nut", 7)])
        self.assertEqual(self.live_locks(), [])

    def test_conflict_shows_diff_and_saves_nothing(self):
        alice, bob = self.alice, self.bob
        self.assertIn("You are editing", self.open_change(bob, "bob"))
        self.type(bob, "id_customer", "ACME (bob)")
        self.type(bob, "id_lines-0-qty", "12")
        # an administrator breaks bob's lock; alice removes a line and changes another
        self.assertEqual(admin("SELECT reclock_break('orders', '42')"), [(True,)])
        self.assertIn("You are editing", self.open_change(alice, "alice"))
        alice.find_element(By.ID, "id_lines-1-DELETE").click()
        self.type(alice, "id_lines-2-qty", "30")
        self.type(alice, "id_lines-3-product", "bolt")
        self.type(alice, "id_lines-3-qty", "100")
        self.save(alice)
        self.assertIn("was changed successfully", self.text(alice, ".messagelist"))
        after_alice = lines()
        self.assertEqual([r[1:] for r in after_alice], [("widget", 10), ("sprocket", 30), ("bolt", 100)])
        bolt = after_alice[2][0]

        # bob saves what he was shown before: the diff, nothing saved
        self.save(bob)
        self.assertIn("Nothing was overwritten", self.text(bob, "#reclock-conflict"))
        rows = [r.text for r in bob.find_elements(By.CSS_SELECTOR, "#reclock-diff tr")][1:]
        self.assertEqual(sorted(rows), sorted([f"order_lines {bolt} added product=bolt, qty=100",
                                               "order_lines 2 removed product=gadget, qty=3",
                                               "order_lines 3 qty changed 25 30"]))
        self.assertEqual(self.editable(bob), [])  # shown read-only, as it is now
        self.shot(bob, "23-admin-bob-conflict.png")
        self.assertEqual(lines(), after_alice)
        self.assertEqual(order(), [("ACME Corp", 5, "ship Tuesday")])
        self.assertEqual(self.live_locks(), [])

    def test_save_refused_while_another_holds_the_order(self):
        alice, bob = self.alice, self.bob
        self.assertIn("You are editing", self.open_change(bob, "bob"))
        self.type(bob, "id_lines-0-qty", "12")
        self.assertEqual(admin("SELECT reclock_break('orders', '42')"), [(True,)])
        self.assertIn("You are editing", self.open_change(alice, "alice"))
        # nothing changed since bob's page was shown; the guard refuses his writes
        self.save(bob)
        self.assertIn("Not saved", self.text(bob, ".messagelist .error"))
        self.assertRegex(self.text(bob, "#reclock-lockinfo"), r"Locked by alice until \d\d:\d\d UTC")
        self.assertEqual(lines(), FIRST_LINES)
        self.assertEqual(self.live_locks(), [("orders", "42", "alice")])

    def test_delete_needs_the_lock(self):
        alice, bob = self.alice, self.bob
        self.assertIn("You are editing", self.open_change(alice, "alice"))
        # bob confirms the deletion of the order alice holds: told who holds it
        self.assertRegex(self.open_change(bob, "bob"), r"Locked by alice")
        bob.get(SITE + CHANGE.replace("/change/", "/delete/"))
        self.submit(bob, "#content form input[type=submit]", by=By.CSS_SELECTOR)
        self.assertRegex(self.text(bob, ".messagelist .error"), r"Not deleted: locked by alice until \d\d:\d\d UTC")
        self.assertEqual(lines(), FIRST_LINES)
        self.assertEqual(order(), [("ACME Corp", 5, "ship Tuesday")])
        # alice deletes it: her delete presents a token of her grant (lines first, then the order)
        alice.get(SITE + CHANGE.replace("/change/", "/delete/"))
        self.submit(alice, "#content form input[type=submit]", by=By.CSS_SELECTOR)
        self.assertIn("was deleted successfully", self.text(alice, ".messagelist .success"))
        self.assertEqual(lines(), [])
        self.assertEqual(order(), [])
        self.assertEqual(self.live_locks(), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
