"""reclock through PgBouncer in transaction mode, with psycopg2 (Django's driver)."""
import os
import sys

import psycopg2

POOL = dict(host="127.0.0.1", port=int(os.environ["POOL_PORT"]), dbname="reclock_pool", user="app")
failures = 0


def check(name, fn):
    global failures
    try:
        fn()
        print(f"ok - {name}")
    except Exception as e:  # noqa: BLE001 - report and go on
        failures += 1
        print(f"not ok - {name}: {e!r}")


def flow():
    conn = psycopg2.connect(**POOL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT acquired, token FROM reclock_acquire(%s, %s, %s)", ("orders", "16", "dave"))
        acquired, token = cur.fetchone()
        assert acquired
    # the save: one transaction; the token is a parameter, never spliced by hand
    conn.autocommit = False
    with conn:
        with conn.cursor() as cur:
            cur.execute("SELECT set_config('reclock.token', %s, true)", (token,))
            cur.execute("SELECT reclock_cas(%s, %s, %s::jsonb, %s::jsonb)",
                        ("orders", "16", '{"qty": 0}', '{"qty": 16, "note": "psycopg"}'))
            assert cur.fetchone()[0] is True
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT reclock_refresh(%s) IS NOT NULL", (token,))
        assert cur.fetchone()[0] is True
        # without the token: refused
        try:
            cur.execute("UPDATE orders SET qty = 0 WHERE id = 16")
            raise AssertionError("the write without a token went through")
        except psycopg2.Error as e:
            assert e.pgcode == "55P03", e.pgcode
        cur.execute("SELECT reclock_release(%s)", (token,))
        assert cur.fetchone()[0] is True
        cur.execute("SELECT qty, note FROM orders WHERE id = 16")
        assert cur.fetchone() == (16, "psycopg")
    conn.close()


check("psycopg2 through PgBouncer: acquire, cas with the token, refresh, refusal, release", flow)
sys.exit(1 if failures else 0)
