"""Edit locks for Django with reclock: copy this file into your project.

    lock = acquire("orders", 42, holder=request.user.username)
    with presenting(lock.token):             # one transaction, token presented
        if not cas("orders", 42, shown, changed):
            changes = diff("orders", 42, shown)   # tell the user what changed

`ReclockEditMixin` wires this into a class-based view: GET acquires (or
renders read-only, "locked by bob until 14:05"), POST saves with
compare-and-swap inside a transaction that presents the token, shows the
per-field diff on a conflict, and releases on save and cancel; it also
serves the heartbeat, release and Server-Sent-Events endpoints.

Tokens travel as query parameters, transaction-local (set_config(..., true)),
so they work through a transaction-pooling PgBouncer.  psycopg2 interpolates
parameters on the client, so a token appears in the statement text the
server sees (pg_stat_activity of the same role); keep log_statement off for
the application role, or use a driver with server-side binding.
"""
import json
import os
import select
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse


@dataclass
class Lock:
    acquired: bool
    token: Optional[str]
    holder: str
    expires_at: datetime
    fence: int


def acquire(table, key, holder, ttl=None) -> Lock:
    """Take the row for holder, or learn who has it (never waits for them)."""
    with connection.cursor() as cur:
        cur.execute("SELECT acquired, token::text, holder, expires_at, fence"
                    " FROM reclock_acquire(%s, %s, %s, %s::interval)", [table, str(key), holder, ttl])
        return Lock(*cur.fetchone())


def refresh(token, ttl=None) -> Optional[datetime]:
    """The heartbeat of an open form: the new expiry, or None if the lock is gone."""
    with connection.cursor() as cur:
        cur.execute("SELECT reclock_refresh(%s::uuid, %s::interval)", [token, ttl])
        return cur.fetchone()[0]


def release(token) -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT reclock_release(%s::uuid)", [token])
        return cur.fetchone()[0]


@contextmanager
def presenting(token):
    """A transaction in which writes to the locked row present its token."""
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SELECT set_config('reclock.token', %s, true)", [token or ""])
        yield


def cas(table, key, expected: dict, new: dict) -> bool:
    """Write new only if the row still holds what the user was shown."""
    with connection.cursor() as cur:
        cur.execute("SELECT reclock_cas(%s, %s, %s::jsonb, %s::jsonb)",
                    [table, str(key), json.dumps(expected), json.dumps(new)])
        return cur.fetchone()[0]


def diff(table, key, expected: dict) -> Optional[dict]:
    """{column: {"expected": ..., "current": ...}} for what changed; None if the row is gone."""
    with connection.cursor() as cur:
        cur.execute("SELECT reclock_diff(%s, %s, %s::jsonb)", [table, str(key), json.dumps(expected)])
        d = cur.fetchone()[0]
        return json.loads(d) if isinstance(d, str) else d


def is_lock_refusal(exc: DatabaseError) -> bool:
    cause = exc.__cause__
    return getattr(cause, "pgcode", None) == "55P03"


def listen(table_qualified, key, seconds=300):
    """Yield reclock notices about one row, from a connection of its own
    (LISTEN does not pass through a transaction-pooling pooler)."""
    import psycopg2  # Django's driver

    s = connection.settings_dict
    conn = psycopg2.connect(dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"],
                            host=s["HOST"] or None, port=s["PORT"] or None)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("LISTEN reclock")
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if select.select([conn], [], [], 10) == ([], [], []):
                yield None  # keep-alive
                continue
            conn.poll()
            while conn.notifies:
                n = conn.notifies.pop(0)
                p = json.loads(n.payload)
                if p.get("table") == table_qualified and str(key) in (p.get("key"), p.get("new_key")):
                    yield p
    finally:
        conn.close()


class ReclockEditMixin:
    """A class-based view mixin for an edit page guarded by reclock.

    Set lock_table (schema-qualified, as notices name it), fields, and
    implement load(pk) -> dict and render_form(request, context, status).
    """
    lock_table = None
    fields = ()
    lock_ttl = "2 minutes"
    action = "edit"

    def holder(self, request):
        return request.GET.get("user") or request.COOKIES.get("user") or "anonymous"

    def dispatch(self, request, *args, **kwargs):
        handler = {"heartbeat": self.heartbeat, "release": self.release_view,
                   "events": self.events}.get(self.action)
        if handler:
            return handler(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, pk):
        row = self.load(pk)
        lock = acquire(self.lock_table, pk, self.holder(request), self.lock_ttl)
        resp = self.render_form(request, {"row": row, "lock": lock, "shown": row,
                                          "readonly": not lock.acquired}, 200)
        resp.set_cookie("user", self.holder(request), samesite="Lax")
        return resp

    def post(self, request, pk):
        token = request.POST.get("token") or None
        if request.POST.get("action") == "cancel":
            if token:
                release(token)
            return self.render_form(request, {"row": self.load(pk), "readonly": True, "left": True}, 200)
        shown = {f: request.POST.get("shown_" + f) for f in self.fields}
        new = {f: request.POST.get(f) for f in self.fields}
        try:
            with presenting(token):
                saved = cas(self.lock_table, pk, shown, new)
                changes = None if saved else diff(self.lock_table, pk, shown)
        except DatabaseError as e:
            if not is_lock_refusal(e):
                raise
            return self.render_form(request, {"row": self.load(pk), "readonly": True,
                                              "refused": str(e.__cause__).splitlines()[0]}, 409)
        if saved:
            if token:
                release(token)
            return self.render_form(request, {"row": self.load(pk), "readonly": True, "saved": True}, 200)
        # someone else changed what the user saw: overwrite nothing, show what changed
        return self.render_form(request, {"row": self.load(pk), "readonly": True, "diff": changes,
                                          "attempted": new}, 409)

    def heartbeat(self, request, pk):
        exp = refresh(request.POST.get("token"), self.lock_ttl)
        return JsonResponse({"live": exp is not None, "expires_at": exp.isoformat() if exp else None})

    def release_view(self, request, pk):
        token = request.POST.get("token")
        return JsonResponse({"released": bool(token) and release(token)})

    def events(self, request, pk):
        def stream():
            yield "retry: 1000\n\n"
            for p in listen(self.lock_table, pk):
                yield ": keep-alive\n\n" if p is None else f"data: {json.dumps(p)}\n\n"
        resp = StreamingHttpResponse(stream(), content_type="text/event-stream")
        resp["Cache-Control"] = "no-cache"
        return resp
