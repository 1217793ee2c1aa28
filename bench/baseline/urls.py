from django.urls import path

from .views import product_list

urlpatterns = [path("api/v1/products/", product_list)]
