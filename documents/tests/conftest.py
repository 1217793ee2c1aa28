import pytest


@pytest.fixture
def media_root(settings, tmp_path):
    """A storage directory of the test's own, so it can count and damage files freely."""
    location = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location), "allow_overwrite": True},
        },
    }
    return location
