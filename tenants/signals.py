"""Keep the routing cache honest: any change to a tenant or domain drops its entries.

Receivers (not services) because the admin and shell change these rows too. Entries
are dropped at once and again after commit, so a request that re-filled the cache with
the old row between the change and its commit cannot keep a stale route alive.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from .models import Domain, Tenant
from .selectors import routing_cache_forget


def _forget(hostnames) -> None:
    hostnames = list(hostnames)
    if not hostnames:
        return
    routing_cache_forget(hostnames)
    transaction.on_commit(lambda: routing_cache_forget(hostnames))


@receiver(pre_save, sender=Domain)
def _remember_old_hostname(sender, instance, **kwargs):
    if instance.pk:
        instance._previous_domain = Domain.objects.filter(pk=instance.pk).values_list("domain", flat=True).first()


@receiver(post_save, sender=Domain)
@receiver(post_delete, sender=Domain)
def _domain_changed(sender, instance, **kwargs):
    _forget({instance.domain, getattr(instance, "_previous_domain", None)} - {None})


@receiver(post_save, sender=Tenant)
def _tenant_changed(sender, instance, created, **kwargs):
    # A deleted tenant needs no receiver: its domains are deleted by cascade, one by one.
    if not created:
        _forget(Domain.objects.filter(tenant_id=instance.pk).values_list("domain", flat=True))
