"""The example's tables as Django models.  schema.sql makes the tables (and
protects them with reclock), so the models are unmanaged: no migrations."""
from django.db import models


class Order(models.Model):
    id = models.IntegerField(primary_key=True)
    customer = models.CharField(max_length=200)
    qty = models.IntegerField()
    note = models.CharField(max_length=200, blank=True, null=True)

    class Meta:
        managed = False
        db_table = "orders"

    def __str__(self):
        return f"Order {self.id}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, models.CASCADE, related_name="lines")
    product = models.CharField(max_length=200)
    qty = models.PositiveIntegerField()

    class Meta:
        managed = False
        db_table = "order_lines"
        ordering = ["id"]

    def __str__(self):
        return f"{self.product} × {self.qty}"
