"""Edit locks for Django with reclock: copy this file into your project.

    lock = acquire("orders", 42, holder=request.user.username)
    with presenting(lock.token):             # one transaction, token presented
        if not cas("orders", 42, shown, changed):
            changes = diff("orders", 42, shown)   # tell the user what changed

Documents (reclock 1.1): a row and its child rows (an order and its lines)
under one lock on the row.  The form keeps what it showed; the save checks
the row and the children in the transaction that presents the token, and
writes only when both are as shown:

    with presenting(lock.token):
        changes = check_document("orders", 42, shown_order,
                                 {"order_lines": shown_lines})
        if changes is None:          # row and lines locked, as shown: write
            form.save(); formset.save()

`ReclockEditMixin` wires this into a class-based view: GET acquires (or
renders read-only, "locked by bob until 14:05"), POST saves with
compare-and-swap inside a transaction that presents the token, shows the
per-field diff on a conflict, and releases on save and cancel; it also
serves the heartbeat, release and Server-Sent-Events endpoints.
`ReclockAdminMixin` does the same for a Django admin change view and its
inlines (holder = the admin user).

Tokens travel as query parameters, transaction-local (set_config(..., true)),
so they work through a transaction-pooling PgBouncer.  psycopg2 interpolates
parameters on the client, so a token appears in the statement text the
server sees (pg_stat_activity of the same role); keep log_statement off for
the application role, or use a driver with server-side binding.
"""
import copy
import datetime as dt
import decimal
import json
import select
import time
import uuid
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


def cas(table, key, expected: dict, new: Optional[dict] = None) -> bool:
    """Write new only if the row still holds what the user was shown (new
    None: only lock the row FOR UPDATE and compare)."""
    with connection.cursor() as cur:
        cur.execute("SELECT reclock_cas(%s, %s, %s::jsonb, %s::jsonb)",
                    [table, str(key), json.dumps(expected), None if new is None else json.dumps(new)])
        return cur.fetchone()[0]


def diff(table, key, expected: dict) -> Optional[dict]:
    """{column: {"expected": ..., "current": ...}} for what changed; None if the row is gone."""
    with connection.cursor() as cur:
        cur.execute("SELECT reclock_diff(%s, %s, %s::jsonb)", [table, str(key), json.dumps(expected)])
        return _json(cur.fetchone()[0])


def _json(d):
    return json.loads(d) if isinstance(d, str) else d


def cas_children(table, parent_key, expected: list) -> Optional[bool]:
    """True when the children of parent_key are exactly the rows expected
    (dicts of key and shown columns); they then stay so until the end of the
    transaction.  False if any was added, removed or changed; None if the
    parent row is gone."""
    with connection.cursor() as cur:
        cur.execute("SELECT reclock_cas_children(%s, %s, %s::jsonb)",
                    [table, str(parent_key), json.dumps(expected)])
        return cur.fetchone()[0]


def diff_children(table, parent_key, expected: list) -> Optional[dict]:
    """{"inserted": [key, ...], "deleted": [key, ...], "changed": {key: {column:
    {"expected": ..., "current": ...}}}} (members only when not empty); {} when
    nothing differs; None if the parent row is gone."""
    with connection.cursor() as cur:
        cur.execute("SELECT reclock_diff_children(%s, %s, %s::jsonb)",
                    [table, str(parent_key), json.dumps(expected)])
        return _json(cur.fetchone()[0])


def jsonable(v):
    """A model field's value as reclock_cas reads it: the JSON value goes
    through the column type's input function (so full precision, ISO dates)."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, (decimal.Decimal, uuid.UUID)):
        return str(v)
    if isinstance(v, dt.timedelta):
        return f"{v.total_seconds()} seconds"
    if isinstance(v, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(v).hex()
    return str(v)


def snapshot(obj, fields=None, key=False) -> dict:
    """What a form shows of a model instance: {column: value} of the named
    fields (default: every concrete field but the primary key); key=True adds
    the primary key (a child row of a formset must name its key)."""
    opts = obj._meta
    chosen = [opts.get_field(f) for f in fields] if fields else \
        [f for f in opts.concrete_fields if not f.primary_key]
    if key and opts.pk not in chosen:
        chosen.insert(0, opts.pk)
    return {f.column: jsonable(f.value_from_object(obj)) for f in chosen}


def check_document(table, key, shown_row: dict, shown_children: dict) -> Optional[dict]:
    """Call inside presenting(token), before writing a row and its children.
    Locks the row (FOR UPDATE) and its children and compares them with what
    the form showed: shown_children maps a child table to the list of its
    rows as shown.  None when everything is as shown: the row and the child
    sets now stay so until the transaction ends, write them.  Otherwise what
    changed, write nothing: {"row": reclock_diff or None if gone,
    "children": {table: reclock_diff_children}} (only the tables that differ)."""
    ok = cas(table, key, shown_row, None)
    bad = [t for t, rows in shown_children.items() if not cas_children(t, key, rows)]
    if ok and not bad:
        return None
    return {"row": diff(table, key, shown_row),
            "children": {t: diff_children(t, key, shown_children[t]) for t in bad}}


def is_lock_refusal(exc: DatabaseError) -> bool:
    cause = exc.__cause__
    return getattr(cause, "pgcode", None) == "55P03"


def parse_notice(payload):
    """A reclock notice as a dict, or None for a payload not shaped like one.
    Any role can NOTIFY reclock with a payload of its own: a notice is a hint
    to re-read the row (the page reloads it), never the state itself."""
    try:
        p = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(p, dict) or not isinstance(p.get("event"), str) \
            or not isinstance(p.get("table"), str):
        return None
    return p


def listen(table_qualified, key, seconds=300):
    """Yield reclock notices about one row, from a connection of its own
    (LISTEN does not pass through a transaction-pooling pooler): first
    {"event": "listening"} once LISTEN is in place, then each notice, and
    None every 10 seconds of silence (a keep-alive)."""
    import psycopg2  # Django's driver

    s = connection.settings_dict
    conn = psycopg2.connect(dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"],
                            host=s["HOST"] or None, port=s["PORT"] or None)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("LISTEN reclock")
        yield {"event": "listening"}
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if select.select([conn], [], [], 10) == ([], [], []):
                yield None  # keep-alive
                continue
            conn.poll()
            while conn.notifies:
                n = conn.notifies.pop(0)
                p = parse_notice(n.payload)
                if p and p["table"] == table_qualified and str(key) in (p.get("key"), p.get("new_key")):
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
        # lock first, then read: acquire waits for a write in flight, so the
        # page shows what the previous holder saved
        lock = acquire(self.lock_table, pk, self.holder(request), self.lock_ttl)
        row = self.load(pk)
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


# ---------------------------------------------------------------- Django admin

_ADMIN_TEMPLATE = """{% extends "admin/change_form.html" %}
{% block form_top %}{{ block.super }}{% with r=reclock %}{% if r %}
<input type="hidden" name="_reclock_token" value="{{ r.token|default:'' }}">
<input type="hidden" name="_reclock_shown" value="{{ r.shown }}">
<ul class="messagelist">
{% if r.lock and r.lock.acquired %}<li class="success" id="reclock-lockinfo" data-heartbeat="{{ r.heartbeat_url }}">You are editing this {{ opts.verbose_name }}
 (lock until <span id="reclock-until">{{ r.lock.expires_at|time:"H:i:s" }}</span> UTC, kept alive while this page is open).
 Saving releases it.</li>
{% elif r.lock %}<li class="warning" id="reclock-lockinfo">Locked by <b>{{ r.lock.holder }}</b> until
 {{ r.lock.expires_at|time:"H:i" }} UTC — you can read, not edit.</li>{% endif %}
{% if r.conflict %}<li class="error" id="reclock-conflict">Not saved: someone changed this
 {{ opts.verbose_name }} after you opened it. Nothing was overwritten; here is what changed.
<table id="reclock-diff"><tr><th>table</th><th>row</th><th>change</th><th>you saw</th><th>now</th></tr>
{% for c in r.conflict %}<tr><td>{{ c.table }}</td><td>{{ c.key }}</td><td>{{ c.what }}</td><td>{{ c.saw }}</td><td>{{ c.now }}</td></tr>
{% endfor %}</table></li>{% endif %}
</ul>
{% if r.token %}<script>
(function () {
  const f = document.currentScript.closest('form');
  const body = new URLSearchParams({ token: '{{ r.token }}',
    csrfmiddlewaretoken: f.querySelector('input[name=csrfmiddlewaretoken]').value });
  const url = document.getElementById('reclock-lockinfo').dataset.heartbeat;
  setInterval(() => fetch(url, { method: 'POST', body: body })
    .then((r) => r.json()).then((j) => {
      if (j.live) document.getElementById('reclock-until').textContent = j.expires_at.substr(11, 8);
    }), 20000);
})();
</script>{% endif %}
{% endif %}{% endwith %}{% endblock %}
"""
_admin_template = None


def describe_changes(table, key, changes, shown_children, current_children=None, hidden=None):
    """check_document's answer as rows for a table: dicts of table, key, what,
    saw, now.  shown_children is what the form showed (a child row's key is
    its first member, as snapshot(key=True) makes it); current_children maps
    a child table to {key: row dict} of inserted rows; hidden maps a child
    table to columns not worth showing (its key, its parent's key)."""
    out = []
    if changes["row"] is None:
        out.append(dict(table=table, key=str(key), what="deleted", saw="", now="gone"))
    else:
        for col, d in changes["row"].items():
            out.append(dict(table=table, key=str(key), what=f"{col} changed", saw=d["expected"], now=d["current"]))
    for t, d in changes["children"].items():
        if d is None:
            continue
        skip = (hidden or {}).get(t, ())

        def text(row):
            return ", ".join(f"{k}={v}" for k, v in row.items() if k not in skip) if row else ""

        shown = {str(next(iter(row.values()))): row for row in shown_children.get(t, [])}
        now = (current_children or {}).get(t, {})
        for k in d.get("inserted", []):
            out.append(dict(table=t, key=k, what="added", saw="", now=text(now.get(k))))
        for k in d.get("deleted", []):
            out.append(dict(table=t, key=k, what="removed", saw=text(shown.get(k)), now=""))
        for k, cols in d.get("changed", {}).items():
            for col, c in cols.items():
                out.append(dict(table=t, key=k, what=f"{col} changed", saw=c["expected"], now=c["current"]))
    return out


class ReclockAdminMixin:
    """A ModelAdmin mixin: the change view of a row and its inlines under one
    reclock lock on the row (the inlines' tables are reclock child tables of
    it: reclock_protect(child, parent => ...)).

    GET takes the lock for request.user (or shows "locked by bob until 14:05"
    and a read-only form, inlines too); the page keeps the token and what it
    showed.  POST presents the token, checks the row with reclock_cas and each
    inline's rows with reclock_cas_children, and only then lets the admin
    validate and save; a conflict shows what changed and saves nothing, a
    refusal by the guard (someone else holds the lock) says who.  Saving
    releases the lock.

        @admin.register(Order)
        class OrderAdmin(ReclockAdminMixin, admin.ModelAdmin):
            inlines = [OrderLineInline]
    """
    lock_ttl = "2 minutes"

    @property
    def change_form_template(self):
        global _admin_template
        if _admin_template is None:
            from django.template import engines
            _admin_template = engines["django"].from_string(_ADMIN_TEMPLATE)
        return _admin_template

    def reclock_holder(self, request):
        return request.user.get_username()

    def reclock_table(self):
        return self.model._meta.db_table

    def get_urls(self):
        from django.urls import path
        return [path("<path:object_id>/reclock-heartbeat/",
                     self.admin_site.admin_view(self.reclock_heartbeat_view),
                     name="%s_%s_reclock_heartbeat" % (self.model._meta.app_label, self.model._meta.model_name)),
                ] + super().get_urls()

    def reclock_heartbeat_view(self, request, object_id):
        exp = refresh(request.POST.get("token") or None, self.lock_ttl) if request.method == "POST" else None
        return JsonResponse({"live": exp is not None, "expires_at": exp.isoformat() if exp else None})

    # read-only while someone else holds the lock, or after a conflict
    def has_change_permission(self, request, obj=None):
        if obj is not None and getattr(request, "_reclock_readonly", False):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and getattr(request, "_reclock_readonly", False):
            return False
        return super().has_delete_permission(request, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id is None or "_saveasnew" in request.POST:
            return super().changeform_view(request, object_id, form_url, extra_context)
        from django.contrib import messages
        from django.contrib.admin.utils import unquote
        from django.shortcuts import redirect
        key = unquote(object_id)
        table = self.reclock_table()
        if not super().has_change_permission(request):
            # a viewer takes no lock (it would keep editors out); a POST is refused
            return super().changeform_view(request, object_id, form_url, extra_context)
        if request.method != "POST":
            try:
                lock = acquire(table, key, self.reclock_holder(request), self.lock_ttl)
            except DatabaseError as e:
                if getattr(e.__cause__, "pgcode", None) not in ("P0002", "42501", "22P02"):
                    raise
                lock = None  # no such row (the admin says so), or no right to lock it
            request._reclock = {"lock": lock, "token": lock.token if lock and lock.acquired else None}
            request._reclock_readonly = not (lock and lock.acquired)
            return super().changeform_view(request, object_id, form_url, extra_context)

        token = request.POST.get("_reclock_token") or None
        try:
            shown = json.loads(request.POST["_reclock_shown"])
        except (KeyError, ValueError):
            return HttpResponse("this form was not shown with a reclock lock: reload it", status=400)
        request._reclock = {"lock": None, "token": token, "shown": shown}
        try:
            with presenting(token):
                changes = check_document(table, key, shown["row"], shown["children"])
                if changes is None:
                    # row and children locked and as shown: the admin validates
                    # and saves them in this transaction (a savepoint of it)
                    response = super().changeform_view(request, object_id, form_url, extra_context)
                    if getattr(request, "_reclock_saved", False) and token:
                        release(token)
                    return response
                current = {t: {str(o.pk): snapshot(o) for o in self._reclock_children_now(t, d["inserted"])}
                           for t, d in changes["children"].items() if d and d.get("inserted")}
        except DatabaseError as e:
            if not is_lock_refusal(e):
                raise
            messages.error(request, "Not saved: " + str(e.__cause__).splitlines()[0])
            return redirect(request.path)
        if token:
            release(token)  # if it is still live: this form is done
        hidden = {i.model._meta.db_table: {f.column for f in i.model._meta.concrete_fields
                                           if f.primary_key or (f.is_relation and f.related_model is self.model)}
                  for i in self.inlines}
        request._reclock["conflict"] = describe_changes(table, key, changes, shown["children"], current, hidden)
        request._reclock_readonly = True
        view = copy.copy(request)
        view.method = "GET"  # render the current state, read-only, with what changed
        response = super().changeform_view(view, object_id, form_url, extra_context)
        response.status_code = 409
        return response

    def get_actions(self, request):
        # the changelist's "delete selected" takes no locks: rows others hold
        # would fail it with the guard's error; delete from the change view
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        """Deleting needs the lock too: the holder's delete presents a token of
        the grant (a same-holder acquire), anyone else is told who holds it."""
        if request.method != "POST":
            return super().delete_view(request, object_id, extra_context)
        from django.contrib import messages
        from django.contrib.admin.utils import unquote
        from django.shortcuts import redirect
        try:
            lock = acquire(self.reclock_table(), unquote(object_id), self.reclock_holder(request), self.lock_ttl)
        except DatabaseError as e:
            if getattr(e.__cause__, "pgcode", None) not in ("P0002", "42501", "22P02"):
                raise
            return super().delete_view(request, object_id, extra_context)  # the admin says why not
        if not lock.acquired:
            messages.error(request, f"Not deleted: locked by {lock.holder} until "
                                    f"{lock.expires_at.astimezone(dt.timezone.utc):%H:%M} UTC.")
            return redirect("../change/")
        try:
            with presenting(lock.token):
                response = super().delete_view(request, object_id, extra_context)
        finally:
            release(lock.token)
        return response

    def _reclock_children_now(self, child_table, keys):
        for inline in self.inlines:
            if inline.model._meta.db_table == child_table:
                return inline.model._default_manager.filter(pk__in=keys)
        return []

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        request._reclock_saved = True

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        r = getattr(request, "_reclock", None)
        if r is not None and obj is not None:
            if "shown" not in r:  # a GET: remember what this page shows
                children = {}
                for f in context["inline_admin_formsets"]:
                    rows = [snapshot(form.instance, key=True) for form in f.formset.initial_forms]
                    children.setdefault(f.formset.model._meta.db_table, []).extend(rows)
                r["shown"] = {"row": snapshot(obj), "children": children}
            from django.urls import reverse
            opts = self.model._meta
            context["reclock"] = dict(
                r, shown=json.dumps(r["shown"]),
                heartbeat_url=reverse("%s:%s_%s_reclock_heartbeat" % (self.admin_site.name, opts.app_label, opts.model_name),
                                      args=[context.get("object_id") or obj.pk]))
        return super().render_change_form(request, context, add, change, form_url, obj)
