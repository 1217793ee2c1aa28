"""The operators' platform dashboard (a page of the admin): the figures and their charts.

Charts are SVG drawn on the server by pygal and put inline in the page: no script, no
asset from elsewhere (the admin's Content Security Policy allows scripts from this
origin only, and inline styles, which pygal's SVG carries). pygal's own chart script
(tooltips) is off, and the config `<script>` it writes anyway is removed from the SVG.
"""

import math
from dataclasses import dataclass
from datetime import date, timedelta

import pygal
from django.db import connection
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django_tenants.utils import tenant_context
from pygal.style import Style

from audit.platform.models import PlatformEvent

from .models import Tenant, TenantStatus
from .selectors import leftover_schema_list, tenant_list
from .usage import tenant_usage

DAYS = 30
TOP = 10
STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#333333",
    foreground_strong="#333333",
    foreground_subtle="#999999",
    font_family="-apple-system, 'Segoe UI', system-ui, Roboto, 'Helvetica Neue', Arial, sans-serif",
    colors=("#417690", "#79aec8", "#ba2121", "#e0b000", "#5b8a3a"),
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=12,
    title_font_size=14,
    no_data_font_size=16,
)


def _without_scripts(root):
    """pygal's xml filter: drop every <script> (its config one is written even with js=[])."""
    for parent in list(root.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":  # not comments
                parent.remove(child)
    return root


def _chart(kind, **options) -> pygal.graph.graph.Graph:
    chart = kind(
        js=[], disable_xml_declaration=True, style=STYLE, width=640, height=300, no_data_text="No data yet", **options
    )
    chart.add_xml_filter(_without_scripts)
    return chart


def _counts_axis(chart, *series: list[int]) -> None:
    """Whole-number ticks for a chart of counts (pygal would draw 0.1, 0.2...)."""
    top = max([1, *(value for values in series for value in values)])
    step = max(1, math.ceil(top / 5))
    chart.y_labels = list(range(0, top + step, step))


def _render(chart) -> SafeString:
    # pygal escapes the labels and values it is given: the SVG is safe to put inline.
    return mark_safe(chart.render(is_unicode=True))  # noqa: S308


@dataclass(frozen=True)
class TopTenant:
    tenant: Tenant
    database_bytes: int
    usage: dict[str, int]

    @property
    def database_size(self) -> str:
        return filesizeformat(self.database_bytes)

    @property
    def usage_text(self) -> str:
        return ", ".join(
            f"{name.replace('_', ' ')}: {filesizeformat(value) if name.endswith('_bytes') else value}"
            for name, value in self.usage.items()
        )


def tenants_by_status() -> dict[str, int]:
    counts = dict(tenant_list().order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return {status: counts.get(status, 0) for status in TenantStatus.values}


def events_per_day(actions: list[str], *, days: int = DAYS) -> tuple[list[date], dict[str, list[int]]]:
    """The last `days` days (today included) and, per action, how many platform events
    of it each day had."""
    today = timezone.now().date()
    dates = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    rows = (
        PlatformEvent.objects.filter(action__in=actions, at__date__gte=dates[0])
        .annotate(day=TruncDate("at"))
        .values_list("action", "day")
        .annotate(n=Count("id"))
    )
    counts = {(action, day): n for action, day, n in rows}
    return dates, {action: [counts.get((action, day), 0) for day in dates] for action in actions}


def top_tenants(*, limit: int = TOP) -> list[TopTenant]:
    """The tenants using the most database space (one catalogue query for all of them),
    with what each uses as its admins see it (members, products, stored bytes...)."""
    schemas = dict(tenant_list().exclude(status=TenantStatus.ARCHIVED).values_list("schema_name", "pk"))
    if not schemas:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname, COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS bytes FROM pg_namespace n"
            " LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind = 'r'"
            " WHERE n.nspname = ANY(%s) GROUP BY n.nspname ORDER BY bytes DESC, n.nspname LIMIT %s",
            [list(schemas), limit],
        )
        sizes = cursor.fetchall()
    tenants = Tenant.objects.in_bulk([schemas[schema] for schema, _ in sizes])
    top = []
    for schema, size in sizes:
        tenant = tenants[schemas[schema]]
        with tenant_context(tenant):  # usage providers count in the tenant's own schema
            top.append(TopTenant(tenant=tenant, database_bytes=int(size), usage=tenant_usage(tenant)))
    return top


def failed_jobs(*, limit: int = 20) -> list[PlatformEvent]:
    return list(PlatformEvent.objects.filter(action="job.failed").order_by("-at")[:limit])


def dashboard_context() -> dict:
    """Everything the dashboard page shows: figures, tables and the charts' SVG."""
    by_status = tenants_by_status()
    status_chart = _chart(pygal.Bar, title="Tenants by status", show_legend=False, print_values=True)
    status_chart.x_labels = list(by_status)
    status_chart.add("tenants", list(by_status.values()))
    _counts_axis(status_chart, list(by_status.values()))

    dates, series = events_per_day(["user.registered", "tenant.provisioned", "job.failed"])
    labels = [day.strftime("%d %b") for day in dates]
    daily = _chart(
        pygal.Bar,
        title=f"Sign-ups and provisioning per day (last {DAYS} days)",
        x_label_rotation=-45,
        show_minor_x_labels=False,
        legend_at_bottom=True,
    )
    daily.x_labels = labels
    daily.x_labels_major = labels[::5]
    daily.add("sign-ups", series["user.registered"])
    daily.add("tenants provisioned", series["tenant.provisioned"])
    _counts_axis(daily, series["user.registered"], series["tenant.provisioned"])

    failures = _chart(
        pygal.Bar,
        title=f"Failed jobs per day (last {DAYS} days)",
        show_legend=False,
        x_label_rotation=-45,
        show_minor_x_labels=False,
    )
    failures.x_labels = labels
    failures.x_labels_major = labels[::5]
    failures.add("failed jobs", series["job.failed"])
    _counts_axis(failures, series["job.failed"])

    top = top_tenants()
    usage_chart = _chart(
        pygal.HorizontalBar,
        title="Top tenants by database size (MB)",
        show_legend=False,
        print_values=True,
        value_formatter=lambda megabytes: f"{megabytes:.1f}",
    )
    usage_chart.x_labels = [row.tenant.slug for row in reversed(top)]
    usage_chart.add("MB", [round(row.database_bytes / 2**20, 2) for row in reversed(top)])

    return {
        "by_status": by_status,
        "tenant_total": sum(by_status.values()),
        "signups_total": sum(series["user.registered"]),
        "provisioned_total": sum(series["tenant.provisioned"]),
        "failures_total": sum(series["job.failed"]),
        "top": top,
        "failed_jobs": failed_jobs(),
        "leftover_schemas": leftover_schema_list(),
        "charts": {
            "status": _render(status_chart),
            "daily": _render(daily),
            "usage": _render(usage_chart),
            "failures": _render(failures),
        },
        "days": DAYS,
    }
