from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Contributions to tenants' registries: tenants sits below inventory and never
        # imports it, so inventory plugs its figures and demo data in from here.
        from tenants.demo import demo_data_provider
        from tenants.usage import usage_provider

        from .demo import seed_inventory
        from .selectors import product_count

        usage_provider("products")(lambda tenant: product_count())
        demo_data_provider("inventory")(seed_inventory)
