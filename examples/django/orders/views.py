"""The order page: an order with its lines, one document under one lock on
the order.  The lines are an inline formset; the save checks the order with
reclock_cas and the lines with reclock_cas_children, in the transaction that
presents the token, and writes only when both are as the page showed them."""
import json

from django import forms
from django.db import DatabaseError
from django.http import Http404
from django.shortcuts import render
from django.views import View

from reclock_django import (ReclockEditMixin, acquire, check_document, is_lock_refusal, presenting,
                            release, snapshot)

from .models import Order, OrderLine

ORDER_FIELDS = ("customer", "qty", "note")
LINE_FIELDS = ("product", "qty")
OrderForm = forms.modelform_factory(Order, fields=ORDER_FIELDS)
LineFormSet = forms.inlineformset_factory(Order, OrderLine, fields=LINE_FIELDS, extra=1, can_delete=True)


class OrderEditView(ReclockEditMixin, View):
    lock_table = "public.orders"
    fields = ORDER_FIELDS

    def documents(self, order, data=None, readonly=False):
        form = OrderForm(data, instance=order, auto_id="%s")
        lines = LineFormSet(data, instance=order, prefix="lines")
        if readonly:
            lines.extra = 0
            lines.can_delete = False
            for f in [form, *lines.forms]:
                for field in f.fields.values():
                    field.disabled = True
        return form, lines

    def get(self, request, pk):
        # lock first, then read: acquire waits for a write in flight
        try:
            lock = acquire(self.lock_table, pk, self.holder(request), self.lock_ttl)
        except DatabaseError as e:
            if getattr(e.__cause__, "pgcode", None) == "P0002":
                raise Http404("no such order")
            raise
        order = Order.objects.get(pk=pk)
        form, lines = self.documents(order, readonly=not lock.acquired)
        shown = {"order": snapshot(order, ORDER_FIELDS),
                 "lines": [snapshot(f.instance, LINE_FIELDS, key=True) for f in lines.initial_forms]}
        resp = self.render_form(request, {"order": order, "form": form, "lines": lines, "lock": lock,
                                          "token": lock.token, "shown": shown, "readonly": not lock.acquired}, 200)
        resp.set_cookie("user", self.holder(request), samesite="Lax")
        return resp

    def post(self, request, pk):
        token = request.POST.get("token") or None
        if request.POST.get("action") == "cancel":
            if token:
                release(token)
            return self.read_only(request, pk, {"left": True}, 200)
        shown = json.loads(request.POST["shown"])
        try:
            with presenting(token):
                # the order FOR UPDATE, its lines as a set: as shown, or what changed
                changes = check_document("orders", pk, shown["order"], {"order_lines": shown["lines"]})
                if changes is None:
                    order = Order.objects.get(pk=pk)
                    form, lines = self.documents(order, request.POST)
                    if not (form.is_valid() and lines.is_valid()):
                        return self.render_form(request, {"order": order, "form": form, "lines": lines,
                                                          "token": token, "shown": shown}, 400)
                    if form.has_changed():
                        form.save()  # an ordinary UPDATE: the guard sees the token
                    lines.save()     # INSERT, UPDATE, DELETE of lines: the same
        except DatabaseError as e:
            if not is_lock_refusal(e):
                raise
            return self.read_only(request, pk, {"refused": str(e.__cause__).splitlines()[0]}, 409)
        if token:
            release(token)  # saved, or this form is done (the lock is gone if it was broken)
        if changes is None:
            return self.read_only(request, pk, {"saved": True}, 200)
        # someone else changed the order after the page showed it: overwrite nothing
        if changes["row"] is None:
            return self.read_only(request, pk, {"gone": True}, 409)
        return self.read_only(request, pk, {"diff": changes["row"],
                                            "attempted": {f: request.POST.get(f) for f in ORDER_FIELDS},
                                            "line_changes": self.line_changes(changes, shown, request.POST)}, 409)

    def line_changes(self, changes, shown, post):
        """The lines diff as table rows: line, change, you saw, now, you wanted."""
        d = changes["children"].get("order_lines")
        if not d:
            return []
        saw = {str(r["id"]): r for r in shown["lines"]}
        wanted = {}
        for i in range(int(post.get("lines-TOTAL_FORMS", 0))):
            k = post.get(f"lines-{i}-id")
            if k:
                wanted[k] = "delete" if post.get(f"lines-{i}-DELETE") else \
                    {c: post.get(f"lines-{i}-{c}") for c in LINE_FIELDS}
        now = {str(l.id): l for l in OrderLine.objects.filter(id__in=d.get("inserted", []))}

        def text(r):
            return r if isinstance(r, str) or r is None else f"{r['product']} × {r['qty']}"

        rows = [dict(key=k, what="added", saw="", now=text(snapshot(now[k], LINE_FIELDS)) if k in now else "",
                     wanted="") for k in d.get("inserted", [])]
        rows += [dict(key=k, what="removed", saw=text(saw.get(k)), now="", wanted=text(wanted.get(k)))
                 for k in d.get("deleted", [])]
        for k, cols in d.get("changed", {}).items():
            for c, v in cols.items():
                w = wanted.get(k)
                rows.append(dict(key=k, what=f"{c} changed", saw=v["expected"], now=v["current"],
                                 wanted=w if isinstance(w, str) or w is None else w.get(c)))
        return rows

    def read_only(self, request, pk, context, status):
        order = Order.objects.filter(pk=pk).first()
        form, lines = self.documents(order, readonly=True) if order else (None, None)
        return self.render_form(request, {"order": order, "form": form, "lines": lines, "readonly": True,
                                          **context}, status)

    def render_form(self, request, context, status):
        context["user"] = self.holder(request)
        if "shown" in context:
            context["shown_json"] = json.dumps(context["shown"])
        return render(request, "orders/edit.html", context, status=status)
