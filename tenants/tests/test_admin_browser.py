"""The admin in a real browser: Debian's headless Chromium, driven by Playwright, against
gunicorn with the production middleware (CSP, whitenoise, tenant routing).

Each page is opened, checked (status, title, the elements an operator relies on:
charts, columns, paging links) and saved as a screenshot under a temporary directory.
No script may be blocked by the Content Security Policy: a violation is a failure.

Needs `/usr/bin/chromium` (`apt-get install chromium`); Playwright never downloads a
browser here. `TESSERA_SKIP_BROWSER=1` skips these tests on a machine without it.
"""

import os
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import override_settings
from django_tenants.utils import tenant_context

from accounts.models import User
from audit.services import audit_record
from tenants.models import Tenant
from tenants.services import tenant_delete, tenant_provision
from testing.processes import child_env, gunicorn

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
CHROMIUM = "/usr/bin/chromium"
OPERATOR = ("browser-ops@tessera.test", "browser-ops-password-long")


def _browser_or_fail():
    if os.environ.get("TESSERA_SKIP_BROWSER") == "1":
        pytest.skip("TESSERA_SKIP_BROWSER=1: the admin's browser checks are skipped.")
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's Chromium (`apt-get install -y chromium`), "
            "or set TESSERA_SKIP_BROWSER=1 to skip the admin's browser checks."
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("The playwright package is missing: `pip install -r requirements-dev.txt`.")
    return sync_playwright


@pytest.fixture(scope="module")
def live_admin(platform, django_db_blocker, tmp_path_factory):
    """gunicorn on a free port with collected static files, an operator, a tenant with
    more trail events than a page holds, and a failed job: all committed, removed after
    (the platform log is append-only; its rows here are named so no other test counts them)."""
    sync_playwright = _browser_or_fail()
    static_root = tmp_path_factory.mktemp("static")
    with django_db_blocker.unblock():
        with override_settings(STATIC_ROOT=str(static_root)):
            call_command("collectstatic", interactive=False, verbosity=0, ignore_patterns=["drf_spectacular_sidecar"])
        operator = User.objects.create_superuser(email=OPERATOR[0], password=OPERATOR[1])
        tenant = tenant_provision(slug="sigma-browser", name="Sigma Browser", owner_email="owner@sigma-browser.test")
        tenant = tenant.tenant
        with tenant_context(tenant):
            for number in range(60):
                audit_record(
                    action="product.updated",
                    object_type="product",
                    object_id=f"browser-{number}",
                    actor=operator,
                    changes={"name": [f"Old name {number}", f"New name {number}"], "reorder_level": [5, 10]},
                )
        for number in range(55):
            audit_record(action="domain.updated", object_type="domain", object_id=f"browser-{number}", platform=True)
        audit_record(
            action="job.failed",
            platform=True,
            object_type="job",
            object_id="weekly_report",
            changes={"tenant": "browser_check", "error": "RuntimeError: the browser check's failed job"},
        )
    try:
        with gunicorn(child_env(STATIC_ROOT=str(static_root), LOG_LEVEL="WARNING")) as base:
            port = base.rsplit(":", 1)[1]
            yield {"base": f"http://localhost:{port}", "tenant": tenant, "sync_playwright": sync_playwright}
    finally:
        with django_db_blocker.unblock():
            connections.close_all()
            tenant_delete(tenant=Tenant.objects.get(pk=tenant.pk), drop_schema=True)
            User.objects.filter(email__in=[OPERATOR[0], "owner@sigma-browser.test"]).delete()


def test_the_admin_pages_render_in_chromium(live_admin, tmp_path):
    base, tenant = live_admin["base"], live_admin["tenant"]
    shots: Path = tmp_path / "screenshots"
    shots.mkdir()
    problems: list[str] = []
    seen: dict[str, dict] = {}
    with live_admin["sync_playwright"]() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        # A CSP violation or script error is a console error; failed loads are checked by
        # URL below instead (the browser's own favicon request may answer 404).
        page.on(
            "console",
            lambda message: (
                problems.append(message.text)
                if message.type == "error" and not message.text.startswith("Failed to load resource")
                else None
            ),
        )
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(
            "response",
            lambda response: (
                problems.append(f"{response.status} {response.url}")
                if response.status >= 400 and not response.url.endswith("/favicon.ico")
                else None
            ),
        )

        def visit(name: str, path: str) -> None:
            response = page.goto(base + path)
            assert response is not None and response.status == 200, (path, response and response.status)
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
            seen[name] = {"title": page.title(), "html": page.content()}

        page.goto(base + "/admin/login/")
        page.fill("#id_username", OPERATOR[0])
        page.fill("#id_password", OPERATOR[1])
        page.click("input[type=submit]")
        page.wait_for_url(base + "/admin/")
        visit("index", "/admin/")
        assert page.locator("#dashboard-link a").get_attribute("href") == "/admin/tenants/tenant/dashboard/"

        visit("dashboard", "/admin/tenants/tenant/dashboard/")
        assert page.locator("svg.pygal-chart").count() == 4
        for box in ("#tenants-by-status", "#per-day", "#top-tenants", "#failed-jobs", "#leftover-schemas"):
            assert page.locator(box).is_visible(), box
        assert page.locator("#failed-jobs").inner_text().count("RuntimeError: the browser check's failed job") == 1
        # The charts are drawn: bars with a size, not empty boxes.
        assert page.locator("#tenants-by-status svg .rect.reactive").count() >= 1
        assert page.locator("#tenants-by-status svg").bounding_box()["width"] > 300

        visit("tenants", "/admin/tenants/tenant/?q=sigma")
        headers = [text.strip() for text in page.locator("#result_list thead th").all_inner_texts()]
        for column in ("SLUG", "STATUS", "API ROOT", "OWNER", "MEMBERS", "PLAN", "USAGE"):
            assert column in [header.upper() for header in headers], headers
        link = page.locator("#result_list td.field-api_root a")
        assert link.inner_text() == "sigma-browser.localhost"
        assert link.get_attribute("href") == f"http://sigma-browser.localhost:{base.rsplit(':', 1)[1]}/api/v1/"

        visit("tenant", f"/admin/tenants/tenant/{tenant.pk}/change/")
        assert page.locator(".field-api_root a").inner_text() == "sigma-browser.localhost"

        visit("audit_trail", f"/admin/tenants/tenant/{tenant.pk}/audit/")
        assert page.locator("#audit-events > tbody > tr").count() == 50
        assert page.locator("a[rel=next]").get_attribute("href").endswith("page=2")
        assert page.locator("#audit-events table.audit-changes").first.is_visible()
        # Nothing wider than the page: the log wraps instead of overflowing.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        visit("audit_trail_page2", f"/admin/tenants/tenant/{tenant.pk}/audit/?family=product&page=2")
        assert "page 2 of 2" in page.locator(".paginator-summary").inner_text()

        visit("platform_events", "/admin/platform_audit/platformevent/")
        assert page.locator("#result_list > tbody > tr").count() == 50
        assert page.locator(".paginator a").count() >= 1
        assert page.locator("#changelist-filter").inner_text().count("purchase_request.*") == 1
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        browser.close()

    titles = {name: view["title"] for name, view in seen.items()}
    assert titles["dashboard"] == "Platform dashboard | Tessera"
    assert titles["tenants"] == "Select tenant to change | Tessera"
    assert titles["tenant"].startswith("Sigma Browser (sigma-browser)")
    assert titles["audit_trail"] == "Audit trail: Sigma Browser | Tessera"
    assert titles["platform_events"] == "Select platform event to view | Tessera"
    assert not re.search(r"\{'[a-z_]+': \[", seen["audit_trail"]["html"])  # no Python dicts on the page
    assert problems == [], problems  # no CSP violation, script error or failed asset
    assert sorted(path.name for path in shots.iterdir()) == sorted(f"{name}.png" for name in seen)
    print(f"Screenshots: {shots}")
