from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("documents", views.DocumentViewSet, basename="document")

urlpatterns = [
    path("documents/<uuid:pk>/content/", views.DocumentContentView.as_view(), name="document-content"),
    *router.urls,
]
