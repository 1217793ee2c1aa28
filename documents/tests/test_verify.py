"""`manage.py documents_verify`: what an operator sees when storage and rows disagree."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import tenant_context

from documents.models import Blob
from documents.storage import blob_path
from documents.tests.factories import DocumentFactory

pytestmark = pytest.mark.django_db


def verify(*args) -> tuple[str, bool]:
    out = StringIO()
    try:
        call_command("documents_verify", *args, stdout=out)
    except CommandError:
        return out.getvalue(), False
    return out.getvalue(), True


def test_clean_storage_passes(tenant_a, media_root):
    with tenant_context(tenant_a):
        DocumentFactory(content=b"fine")
    out, ok = verify("--tenant", tenant_a.slug)
    assert ok and "alpha: 1 blob(s), 0 problem(s)" in out


def test_corrupt_missing_stray_and_miscounted_are_reported(tenant_a, media_root):
    with tenant_context(tenant_a):
        corrupt = DocumentFactory(content=b"will rot").blob
        missing = DocumentFactory(content=b"will vanish").blob
        miscounted = DocumentFactory(content=b"counted wrong").blob
        Blob.objects.filter(pk=miscounted.pk).update(ref_count=5)
        schema = tenant_a.schema_name
    (media_root / blob_path(corrupt.sha256, schema)).write_bytes(b"bit rot")
    (media_root / blob_path(missing.sha256, schema)).unlink()
    stray = media_root / schema / "ab" / "cd" / ("ab" + "0" * 62)
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"nobody's")

    out, ok = verify("--tenant", tenant_a.slug)
    assert not ok
    assert f"corrupt: {corrupt.sha256}" in out and f"missing: {missing.sha256}" in out
    assert f"ref_count: {miscounted.sha256} counts 5, has 1" in out and "stray: " in out
    assert "4 problem(s)" in out

    out, ok = verify("--tenant", tenant_a.slug, "--repair")
    assert f"repaired ref_count: {miscounted.sha256} 5 -> 1" in out and "3 problem(s)" in out
    with tenant_context(tenant_a):
        assert Blob.objects.get(pk=miscounted.pk).ref_count == 1


def test_every_tenant_by_default_and_unknown_slug_is_one_line(tenant_a, tenant_b, media_root):
    out, ok = verify()
    assert ok and "alpha:" in out and "beta:" in out
    with pytest.raises(CommandError, match='No tenant with slug "nope"'):
        call_command("documents_verify", "--tenant", "nope")
