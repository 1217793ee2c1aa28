from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from tenants.usage import usage_provider

        from .models import Product

        usage_provider("products")(lambda tenant: Product.objects.count())
