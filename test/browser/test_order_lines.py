"""The order page as a document: an order with its lines (an inline formset)
under one lock on the order.  alice and bob in headless Chromium; the
database rows are the judge.  Screenshots in artifacts/."""
import unittest

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from harness import SITE, DemoCase, admin, reset_schema

EDIT = SITE + "/orders/42/edit"
FIRST_LINES = [(1, "widget", 10), (2, "gadget", 3), (3, "sprocket", 25)]


def lines():
    return admin("SELECT id, product, qty FROM order_lines WHERE order_id = 42 ORDER BY id")


def order():
    return admin("SELECT customer, qty, note FROM orders WHERE id = 42")


class OrderLinesTest(DemoCase):
    def setUp(self):
        super().setUp()
        reset_schema()
        self.assertEqual(lines(), FIRST_LINES)

    def line_inputs(self, driver):
        return driver.find_elements(By.CSS_SELECTOR, "#lines input[name^=lines-]:not([type=hidden])")

    def test_locked_order_lines_read_only(self):
        alice, bob = self.alice, self.bob
        alice.get(EDIT + "?user=alice")
        self.assertIn("You are editing", self.text(alice, "#lockinfo"))
        # three lines and a blank one to add, each with product and qty (and remove for the three)
        self.assertEqual([r.get_attribute("data-line") for r in alice.find_elements(By.CSS_SELECTOR, "tr.line")],
                         ["1", "2", "3", "new"])
        self.assertTrue(all(e.is_enabled() for e in self.line_inputs(alice)))
        self.assertEqual(len(alice.find_elements(By.CSS_SELECTOR, "input[name$=-DELETE]")), 3)
        self.shot(alice, "11-lines-alice-editing.png")

        # bob: told who holds the order; the order and all its lines read-only
        bob.get(EDIT + "?user=bob")
        self.assertRegex(self.text(bob, "#lockinfo"), r"Locked by alice until \d\d:\d\d UTC")
        self.assertEqual([r.get_attribute("data-line") for r in bob.find_elements(By.CSS_SELECTOR, "tr.line")],
                         ["1", "2", "3"])
        inputs = self.line_inputs(bob)
        self.assertEqual(len(inputs), 6)
        self.assertFalse(any(e.is_enabled() for e in inputs))
        self.assertEqual(bob.find_elements(By.CSS_SELECTOR, "input[name$=-DELETE]"), [])
        self.assertEqual(bob.find_elements(By.ID, "save"), [])
        self.shot(bob, "12-lines-bob-locked.png")

        # alice changes a line (not the order) and saves: bob's page hears of it
        # (a notice of the order for the write of its child), then that she left
        WebDriverWait(bob, 60).until(EC.presence_of_element_located((By.CSS_SELECTOR, "body[data-listening]")))
        self.type(alice, "id_lines-1-qty", "4")
        self.submit(alice, "save")
        self.assertEqual(self.text(alice, "#result"), "Saved.")
        WebDriverWait(bob, 60).until(EC.text_to_be_present_in_element((By.ID, "banner"),
                                                                     "alice saved this order (its lines)"))
        WebDriverWait(bob, 60).until(EC.text_to_be_present_in_element((By.ID, "banner"), "alice left this order"))
        self.shot(bob, "13-lines-bob-banner.png")
        self.assertEqual(lines(), [(1, "widget", 10), (2, "gadget", 4), (3, "sprocket", 25)])
        self.assertEqual(order(), [("ACME Corp", 5, "ship Tuesday")])
        self.assertEqual(self.live_locks(), [])

    def test_stale_formset_shows_line_diff_and_overwrites_nothing(self):
        alice, bob = self.alice, self.bob
        # bob opens the order and starts editing lines
        bob.get(EDIT + "?user=bob")
        self.assertIn("You are editing", self.text(bob, "#lockinfo"))
        self.type(bob, "id_lines-0-qty", "11")        # widget 10 -> 11
        self.type(bob, "id_lines-2-qty", "24")        # sprocket 25 -> 24
        self.type(bob, "customer", "ACME (bob)")

        # an administrator breaks bob's lock; alice takes the order
        self.assertEqual(admin("SELECT reclock_break('orders', '42')"), [(True,)])
        alice.get(EDIT + "?user=alice")
        self.assertIn("You are editing", self.text(alice, "#lockinfo"))
        self.type(alice, "id_lines-3-product", "bolt")  # a new line
        self.type(alice, "id_lines-3-qty", "100")
        alice.find_element(By.ID, "id_lines-1-DELETE").click()  # remove gadget
        self.type(alice, "id_lines-2-qty", "30")       # sprocket 25 -> 30
        self.submit(alice, "save")
        self.assertEqual(self.text(alice, "#result"), "Saved.")
        after_alice = lines()
        self.assertEqual([r[1:] for r in after_alice], [("widget", 10), ("sprocket", 30), ("bolt", 100)])
        bolt = str(after_alice[2][0])
        self.assertEqual(self.live_locks(), [])  # saving released alice's lock

        # bob saves the formset he was shown before alice's save
        self.submit(bob, "save")
        self.assertIn("Nothing was overwritten", self.text(bob, "#result"))
        rows = [r.text for r in bob.find_elements(By.CSS_SELECTOR, "#lines-diff tr")][1:]
        self.assertEqual(sorted(rows), sorted([
            f"{bolt} added bolt × 100",
            "2 removed gadget × 3 gadget × 3",
            "3 qty changed 25 30 24",
        ]))
        # the order itself was not changed by alice: no order diff
        self.assertEqual(bob.find_elements(By.ID, "diff"), [])
        self.shot(bob, "14-lines-bob-stale-diff.png")
        # nothing of bob's was written, nothing of alice's overwritten
        self.assertEqual(lines(), after_alice)
        self.assertEqual(order(), [("ACME Corp", 5, "ship Tuesday")])

    def test_line_write_refused_while_another_holds_the_order(self):
        alice, bob = self.alice, self.bob
        bob.get(EDIT + "?user=bob")
        self.assertIn("You are editing", self.text(bob, "#lockinfo"))
        self.type(bob, "id_lines-0-qty", "12")  # only a line: the order row is not written
        # bob's lock is broken and alice holds the order (she has not saved)
        self.assertEqual(admin("SELECT reclock_break('orders', '42')"), [(True,)])
        alice.get(EDIT + "?user=alice")
        self.assertIn("You are editing", self.text(alice, "#lockinfo"))
        # bob's lines are as shown, so the check passes; the guard refuses the line's UPDATE
        self.submit(bob, "save")
        result = self.text(bob, "#result")
        self.assertIn("Not saved", result)
        self.assertIn("alice", result)
        self.shot(bob, "15-lines-bob-refused.png")
        self.assertEqual(lines(), FIRST_LINES)
        self.assertEqual(self.live_locks(), [("orders", "42", "alice")])


if __name__ == "__main__":
    unittest.main(verbosity=2)
