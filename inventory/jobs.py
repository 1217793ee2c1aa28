"""Inventory's work for tenants' scheduled jobs (services; the steps are in tasks.py):
the hourly low-stock alerts and the daily removal of stale drafts. Each is safe to run
twice for the same period."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.selectors import member_emails
from audit.services import audit_record
from core.roles import Role

from .models import LowStockAlert, PurchaseRequest, PurchaseRequestStatus
from .selectors import product_low_stock_list
from .services import purchase_request_delete


@transaction.atomic
def low_stock_alerts_update() -> tuple[int, int]:
    """Open an alert for each product now low without one, close those whose product is
    no longer low (recovered, or deactivated). Returns (opened, closed)."""
    now = timezone.now()
    low = {product.pk: product for product in product_low_stock_list()}
    closed = 0
    for alert in LowStockAlert.objects.select_for_update().filter(recovered_at__isnull=True):
        if alert.product_id in low:
            low.pop(alert.product_id)
        else:
            alert.recovered_at = now
            alert.save(update_fields=["recovered_at", "updated_at"])
            closed += 1
    opened = []
    for product in low.values():
        try:
            # A concurrent run may have opened this alert meanwhile: the partial unique
            # index refuses the second, and this run goes on with the next product.
            with transaction.atomic():
                alert = LowStockAlert.objects.create(
                    product=product,
                    on_hand=product.on_hand,  # type: ignore[attr-defined]  # annotated by the selector
                    reorder_level=product.reorder_level,
                )
        except IntegrityError:
            continue
        opened.append(alert)
        audit_record(
            action="product.low_stock",
            target=product,
            changes={"on_hand": str(alert.on_hand), "reorder_level": str(alert.reorder_level)},
        )
    return len(opened), closed


def low_stock_alerts_unsent() -> list[str]:
    return [str(pk) for pk in LowStockAlert.objects.filter(notified_at__isnull=True).values_list("pk", flat=True)]


@transaction.atomic
def low_stock_alert_email(*, tenant, alert_id) -> str:
    """One e-mail to the managers and above about one crossing, once (see reports)."""
    alert = LowStockAlert.objects.select_for_update().select_related("product").get(pk=alert_id)
    if alert.notified_at is not None:
        return "already sent"
    recipients = member_emails(tenant=tenant, minimum_role=Role.MANAGER)
    if recipients:
        context = {"tenant": tenant, "alert": alert, "product": alert.product}
        message = EmailMultiAlternatives(
            subject=f"{tenant.name}: {alert.product.sku} is low on stock",
            body=render_to_string("inventory/low_stock_email.txt", context),
            to=recipients,
        )
        message.attach_alternative(render_to_string("inventory/low_stock_email.html", context), "text/html")
        message.send()
    alert.notified_at, alert.recipients = timezone.now(), recipients
    alert.save(update_fields=["notified_at", "recipients", "updated_at"])
    return f"sent to {len(recipients)}"


def purchase_request_drafts_purge(*, now=None) -> int:
    """Delete drafts untouched for PURCHASE_REQUEST_DRAFT_DAYS (default 30), each through
    the delete service (its audit record included), the oldest first."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.PURCHASE_REQUEST_DRAFT_DAYS)
    stale = PurchaseRequest.objects.filter(status=PurchaseRequestStatus.DRAFT, updated_at__lt=cutoff).order_by(
        "updated_at"
    )
    removed = 0
    for draft in stale.iterator():
        purchase_request_delete(purchase_request=draft, actor=None)
        removed += 1
    return removed
