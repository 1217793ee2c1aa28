"""Inventory's scheduled work: low-stock alerts once per crossing, stale drafts removed."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from inventory import jobs, services
from inventory.models import LowStockAlert, PurchaseRequest, PurchaseRequestStatus
from inventory.tests.factories import ProductFactory, StockLevelFactory, SupplierFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


def run_alerts(tenant) -> list[str]:
    """One hourly run as the job does it: update, then e-mail what is unsent."""
    jobs.low_stock_alerts_update()
    return [jobs.low_stock_alert_email(tenant=tenant, alert_id=pk) for pk in jobs.low_stock_alerts_unsent()]


def test_one_alert_per_crossing_to_managers_and_above(tenant_a, platform):
    with tenant_context(tenant_a):
        warehouse = WarehouseFactory()
        product = ProductFactory(sku="GLUE", reorder_level=Decimal("10"))
        level = StockLevelFactory(product=product, warehouse=warehouse, quantity=Decimal("10.001"))
        assert run_alerts(tenant_a) == []  # just above: not low

        level.quantity = Decimal("10")  # at the reorder level: low
        level.save()
        assert run_alerts(tenant_a) == ["sent to 3"]
        (message,) = mail.outbox
        assert message.subject == "Alpha: GLUE is low on stock" and "Reorder level: 10.000" in message.body
        managers_up = {platform.user(tenant_a, role).email for role in ("manager", "admin", "owner")}
        assert set(message.to) == managers_up

        level.quantity = Decimal("2")  # lower still, the same crossing
        level.save()
        assert run_alerts(tenant_a) == [] and len(mail.outbox) == 1

        level.quantity = Decimal("50")  # recovered
        level.save()
        run_alerts(tenant_a)
        assert LowStockAlert.objects.get().recovered_at is not None

        level.quantity = Decimal("1")  # a new crossing
        level.save()
        assert run_alerts(tenant_a) == ["sent to 3"] and len(mail.outbox) == 2
        assert LowStockAlert.objects.count() == 2
        assert AuditEvent.objects.filter(action="product.low_stock", object_id=str(product.pk)).count() == 2


def test_an_alert_whose_send_failed_is_sent_by_the_next_run(tenant_a, settings):
    with tenant_context(tenant_a):
        ProductFactory(sku="EMPTY", reorder_level=Decimal("1"))  # no stock at all: 0 <= 1
        settings.EMAIL_BACKEND = "testing.mail.RefusingBackend"
        jobs.low_stock_alerts_update()
        with pytest.raises(OSError):
            jobs.low_stock_alert_email(tenant=tenant_a, alert_id=jobs.low_stock_alerts_unsent()[0])
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        assert run_alerts(tenant_a) == ["sent to 3"]
        assert run_alerts(tenant_a) == []


def test_stale_drafts_are_removed_and_nothing_else(tenant_a):
    now = timezone.now()
    with tenant_context(tenant_a):
        supplier, product = SupplierFactory(), ProductFactory()
        line = [{"product": product, "quantity": Decimal("1"), "unit_price": Decimal("1")}]

        def request(age: timedelta, submit: bool = False) -> PurchaseRequest:
            made = services.purchase_request_create(supplier=supplier, lines=line, actor=None)
            if submit:
                services.purchase_request_submit(purchase_request=made, actor=None)
            PurchaseRequest.objects.filter(pk=made.pk).update(updated_at=now - age)
            return made

        stale = request(timedelta(days=30, seconds=1))
        fresh = request(timedelta(days=30) - timedelta(seconds=1))
        old_submitted = request(timedelta(days=90), submit=True)
        assert jobs.purchase_request_drafts_purge(now=now) == 1
        assert jobs.purchase_request_drafts_purge(now=now) == 0  # twice is once
        remaining = set(PurchaseRequest.objects.values_list("pk", flat=True))
        assert stale.pk not in remaining and {fresh.pk, old_submitted.pk} <= remaining
        assert PurchaseRequest.objects.get(pk=old_submitted.pk).status == PurchaseRequestStatus.SUBMITTED
        assert AuditEvent.objects.filter(action="purchase_request.deleted", object_id=str(stale.pk)).exists()
