from django.contrib import admin
from django.urls import path

from orders import views

urlpatterns = [
    path("orders/<int:pk>/edit", views.OrderEditView.as_view(), name="edit"),
    path("orders/<int:pk>/heartbeat", views.OrderEditView.as_view(action="heartbeat"), name="heartbeat"),
    path("orders/<int:pk>/release", views.OrderEditView.as_view(action="release"), name="release"),
    path("orders/<int:pk>/events", views.OrderEditView.as_view(action="events"), name="events"),
    path("admin/", admin.site.urls),
]
