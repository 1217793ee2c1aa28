"""The weekly inventory report: built from inventory, stored as a document, e-mailed.

Exactly once per tenant and week, on a queue that may deliver twice: the ReportRun row
for (kind, week) is taken first, under a row lock; a second run, concurrent or later,
finds it with its document and does nothing. The e-mail is a task of its own, sent
after the commit, retried on SMTP failures without touching the report, and marked
sent on the row so a retry after success sends nothing.
"""

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.selectors import member_emails
from audit.services import audit_record
from core.roles import Role
from documents.selectors import document_list
from documents.services import document_upload
from documents.storage import blob_path, blob_storage
from inventory.selectors import product_low_stock_list, purchase_request_counts, stock_level_list

from .models import ReportKind, ReportRun

CONTENT_TYPE = "text/csv"


def _day(at: datetime) -> str:
    return at.date().isoformat()


def _quantity(value) -> str:
    """As the API writes quantities: three decimals (a sum over no rows is a bare 0)."""
    return f"{Decimal(value):.3f}"


def weekly_report_csv(*, period_start: datetime, period_end: datetime) -> bytes:
    """Three tables, each under a title row and a header row, a blank row between:
    stock on hand per product and warehouse, the low-stock list (on hand at or below
    the reorder level, as of now) and purchase requests created during the week by
    status. Quantities as the API writes them."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Stock on hand"])
    writer.writerow(["sku", "product", "warehouse", "quantity"])
    for level in stock_level_list().order_by("product__sku", "warehouse__code"):
        writer.writerow([level.product.sku, level.product.name, level.warehouse.code, _quantity(level.quantity)])
    writer.writerow([])
    writer.writerow(["Low stock"])
    writer.writerow(["sku", "product", "on_hand", "reorder_level"])
    for product in product_low_stock_list().order_by("sku"):
        writer.writerow([product.sku, product.name, _quantity(product.on_hand), _quantity(product.reorder_level)])
    writer.writerow([])
    writer.writerow([f"Purchase requests created {_day(period_start)} to {_day(period_end - timedelta(days=1))}"])
    writer.writerow(["status", "count"])
    for status, count in purchase_request_counts(created_from=period_start, created_before=period_end).items():
        writer.writerow([status, count])
    return out.getvalue().encode()


def _run_for(period_start: datetime, period_end: datetime) -> ReportRun:
    """The week's row, locked: created if new (a concurrent creator wins, we wait)."""
    try:
        with transaction.atomic():
            return ReportRun.objects.select_for_update().get_or_create(
                kind=ReportKind.INVENTORY_WEEKLY, period_start=period_start, defaults={"period_end": period_end}
            )[0]
    except IntegrityError:
        return ReportRun.objects.select_for_update().get(kind=ReportKind.INVENTORY_WEEKLY, period_start=period_start)


@transaction.atomic
def weekly_report_generate(*, period_start: datetime, period_end: datetime) -> tuple[ReportRun, str]:
    """Store this week's report once. Returns the run and a line saying what was done."""
    run = _run_for(period_start, period_end)
    if run.document_id is not None:
        return run, f"already stored ({run.document_id})"
    name = f"inventory-report-{_day(period_start)}-to-{_day(period_end - timedelta(days=1))}.csv"
    document = document_upload(
        file=ContentFile(weekly_report_csv(period_start=period_start, period_end=period_end), name=name),
        actor=None,
        title=f"Inventory report, week of {_day(period_start)}",
        tags=["report", "inventory-weekly"],
        content_type=CONTENT_TYPE,
    )
    run.document_id = document.pk
    run.save(update_fields=["document_id", "updated_at"])
    audit_record(action="report.generated", target=run, changes={"document": str(document.pk), "name": name})
    return run, f"stored {name} ({document.size} bytes)"


@transaction.atomic
def report_email(*, tenant, run_id) -> str:
    """E-mail a stored report to the tenant's admins and owner, once: the run is locked
    while sending and marked when the relay accepted it. A failed send raises (the task
    retries it) and changes nothing."""
    run = ReportRun.objects.select_for_update().get(pk=run_id)
    if run.emailed_at is not None:
        return "already sent"
    recipients = member_emails(tenant=tenant, minimum_role=Role.ADMIN)
    if not recipients:
        run.emailed_at = timezone.now()
        run.save(update_fields=["emailed_at", "updated_at"])
        return "no recipients"
    document = document_list().get(pk=run.document_id)
    with blob_storage().open(blob_path(document.blob.sha256), "rb") as stored:
        content = stored.read()  # a report is small: a few rows per product
    context = {"tenant": tenant, "run": run, "last_day": run.period_end - timedelta(days=1), "document": document}
    message = EmailMultiAlternatives(
        subject=f"{tenant.name}: inventory report, week of {_day(run.period_start)}",
        body=render_to_string("reports/weekly_report_email.txt", context),
        to=recipients,
    )
    message.attach_alternative(render_to_string("reports/weekly_report_email.html", context), "text/html")
    message.attach(document.name, content, CONTENT_TYPE)
    message.send()
    run.emailed_at, run.recipients = timezone.now(), recipients
    run.save(update_fields=["emailed_at", "recipients", "updated_at"])
    return f"sent to {len(recipients)}"
