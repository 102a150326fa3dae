from django.contrib import admin

from reclock_django import ReclockAdminMixin

from .models import Order, OrderLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 1


@admin.register(Order)
class OrderAdmin(ReclockAdminMixin, admin.ModelAdmin):
    """The order and its lines under one lock on the order."""
    fields = ("customer", "qty", "note")
    list_display = ("id", "customer", "qty")
    inlines = [OrderLineInline]
