from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Contributions to tenants' registries: tenants sits below inventory and never
        # imports it, so inventory plugs its figures and demo data in from here.
        from tenants.demo import demo_data_provider
        from tenants.jobs import job_step
        from tenants.usage import usage_provider

        from .demo import seed_inventory
        from .selectors import product_count, warehouse_list
        from .tasks import drafts_cleanup_step, low_stock_alerts_step

        usage_provider("products")(lambda tenant: product_count())
        usage_provider("warehouses")(lambda tenant: warehouse_list().count())
        demo_data_provider("inventory")(seed_inventory)
        job_step("low_stock_alerts", "low_stock_alerts", module="inventory")(low_stock_alerts_step)
        job_step("daily_cleanup", "purchase_request_drafts", module="inventory")(drafts_cleanup_step)
