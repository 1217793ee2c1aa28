from django.urls import path

from . import views

urlpatterns = [path("features/", views.FeaturesView.as_view(), name="features")]

public_urlpatterns = [path("plans/", views.PlansView.as_view(), name="plans")]
