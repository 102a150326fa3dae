from django.db import connection
from django.shortcuts import render
from django.views import View

from reclock_django import ReclockEditMixin


class OrderEditView(ReclockEditMixin, View):
    lock_table = "public.orders"
    fields = ("customer", "qty", "note")

    def load(self, pk):
        with connection.cursor() as cur:
            cur.execute("SELECT id, customer, qty::text, note FROM orders WHERE id = %s", [pk])
            r = cur.fetchone()
        return dict(zip(("id", "customer", "qty", "note"), r)) if r else None

    def render_form(self, request, context, status):
        context["user"] = self.holder(request)
        context["fields"] = self.fields
        return render(request, "orders/edit.html", context, status=status)
