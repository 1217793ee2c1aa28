"""The weekly inventory report: its content cell by cell, once per week, e-mailed once."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from smtplib import SMTPException

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from documents.models import Document
from inventory import services as inventory
from inventory.models import PurchaseRequest
from inventory.tests.factories import ProductFactory, StockLevelFactory, SupplierFactory, WarehouseFactory
from reports import services
from reports.models import ReportRun

pytestmark = pytest.mark.django_db
WEEK = (datetime(2026, 11, 22, tzinfo=UTC), datetime(2026, 11, 29, tzinfo=UTC))


def tables(content: bytes) -> list[list[list[str]]]:
    """The CSV's tables, split at blank rows."""
    rows, result = list(csv.reader(io.StringIO(content.decode()))), [[]]
    for row in rows:
        if row:
            result[-1].append(row)
        else:
            result.append([])
    return result


@pytest.fixture
def stock(tenant_a):
    with tenant_context(tenant_a):
        bolt = ProductFactory(sku="BOLT", name="Bolt", reorder_level=Decimal("5"))
        nut = ProductFactory(sku="NUT", name="Nut", reorder_level=Decimal("50"))
        ProductFactory(sku="OLD", name="Retired", reorder_level=Decimal("10"), is_active=False)
        main, east = WarehouseFactory(code="MAIN"), WarehouseFactory(code="EAST")
        StockLevelFactory(product=bolt, warehouse=main, quantity=Decimal("7.5"))
        StockLevelFactory(product=bolt, warehouse=east, quantity=Decimal("0"))
        StockLevelFactory(product=nut, warehouse=main, quantity=Decimal("50"))
        supplier = SupplierFactory()
        line = [{"product": bolt, "quantity": Decimal("1"), "unit_price": Decimal("1")}]
        inside = [inventory.purchase_request_create(supplier=supplier, lines=line, actor=None) for _ in range(3)]
        inventory.purchase_request_submit(purchase_request=inside[0], actor=None)
        before = inventory.purchase_request_create(supplier=supplier, lines=line, actor=None)
        PurchaseRequest.objects.filter(pk__in=[pr.pk for pr in inside]).update(created_at=WEEK[0] + timedelta(days=2))
        # Just outside on either side: the Saturday before, and Sunday 00:00 (the next week's).
        PurchaseRequest.objects.filter(pk=before.pk).update(created_at=WEEK[0] - timedelta(seconds=1))
        after = inventory.purchase_request_create(supplier=supplier, lines=line, actor=None)
        PurchaseRequest.objects.filter(pk=after.pk).update(created_at=WEEK[1])


def test_report_content_cell_by_cell(tenant_a, stock):
    with tenant_context(tenant_a):
        content = services.weekly_report_csv(period_start=WEEK[0], period_end=WEEK[1])
    on_hand, low, requests = tables(content)
    assert on_hand == [
        ["Stock on hand"],
        ["sku", "product", "warehouse", "quantity"],
        ["BOLT", "Bolt", "EAST", "0.000"],
        ["BOLT", "Bolt", "MAIN", "7.500"],
        ["NUT", "Nut", "MAIN", "50.000"],
    ]
    # NUT at exactly its reorder level is low; BOLT above it is not; inactive OLD is not listed.
    assert low == [["Low stock"], ["sku", "product", "on_hand", "reorder_level"], ["NUT", "Nut", "50.000", "50.000"]]
    assert requests == [
        ["Purchase requests created 2026-11-22 to 2026-11-28"],
        ["status", "count"],
        ["draft", "2"],
        ["submitted", "1"],
        ["approved", "0"],
        ["rejected", "0"],
        ["received", "0"],
        ["cancelled", "0"],
    ]


def test_report_is_stored_once_per_week(tenant_a, stock, media_root):
    with tenant_context(tenant_a):
        run, _ = services.weekly_report_generate(period_start=WEEK[0], period_end=WEEK[1])
        again, done_again = services.weekly_report_generate(period_start=WEEK[0], period_end=WEEK[1])
        assert again.pk == run.pk and done_again.startswith("already stored")
        document = Document.objects.get()
        assert document.pk == run.document_id and document.name == "inventory-report-2026-11-22-to-2026-11-28.csv"
        assert document.content_type == "text/csv" and document.tags == ["report", "inventory-weekly"]
        next_week, _ = services.weekly_report_generate(period_start=WEEK[1], period_end=WEEK[1] + timedelta(days=7))
        assert next_week.pk != run.pk and Document.objects.count() == 2 and ReportRun.objects.count() == 2


def test_report_email_goes_once_to_admins_and_owner(tenant_a, stock, media_root, platform):
    with tenant_context(tenant_a):
        run, _ = services.weekly_report_generate(period_start=WEEK[0], period_end=WEEK[1])
        assert services.report_email(tenant=tenant_a, run_id=run.pk).startswith("sent to 2")
        assert services.report_email(tenant=tenant_a, run_id=run.pk) == "already sent"
    (message,) = mail.outbox
    assert sorted(message.to) == sorted(platform.user(tenant_a, role).email for role in ("admin", "owner"))
    assert message.subject == "Alpha: inventory report, week of 2026-11-22"
    assert message.alternatives[0][1] == "text/html" and "2026-11-28" in message.body
    (name, content, content_type) = message.attachments[0]
    assert name == "inventory-report-2026-11-22-to-2026-11-28.csv" and content_type == "text/csv"
    assert tables(content.encode() if isinstance(content, str) else content)[0][2] == ["BOLT", "Bolt", "EAST", "0.000"]


def test_a_failed_send_keeps_the_report_and_a_retry_sends_it(tenant_a, stock, media_root, settings):
    with tenant_context(tenant_a):
        run, _ = services.weekly_report_generate(period_start=WEEK[0], period_end=WEEK[1])
        settings.EMAIL_BACKEND = "testing.mail.RefusingBackend"
        with pytest.raises(SMTPException):
            services.report_email(tenant=tenant_a, run_id=run.pk)
        run.refresh_from_db()
        assert run.emailed_at is None and Document.objects.filter(pk=run.document_id).exists()
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        assert services.report_email(tenant=tenant_a, run_id=run.pk).startswith("sent")
    assert len(mail.outbox) == 1
