"""Plans and feature flags (public schema): data that operators edit, not code."""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models

from .catalog import modules_problem, quotas_problem


class Plan(models.Model):
    """A named set of modules and quotas. A tenant has one, plus its own overrides."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    modules = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    quotas = models.JSONField(default=dict, blank=True, help_text='{"products": 100, ...}; null or absent: no limit.')
    self_service = models.BooleanField(
        default=False,
        help_text="Offered at sign-up (and listed by GET /api/v1/plans/). Other plans are given by operators.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.name

    def clean(self):
        problems = {}
        if problem := modules_problem(self.modules):
            problems["modules"] = problem
        if problem := quotas_problem(self.quotas):
            problems["quotas"] = problem
        if problems:
            raise ValidationError(problems)


class Flag(models.Model):
    """A feature rolled out gradually. Evaluated per tenant, first match wins: the
    tenant is in `tenants_off` (off), in `tenants_on` (on); `everyone` is set (that);
    the tenant's plan is in `plans` (on); the tenant's stable bucket (0-99, from a hash
    of the flag and the tenant) is under `percent` (on); else off. Raising `percent`
    only adds tenants: a tenant in at 10 % is in at 20 %."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.SlugField(max_length=60, unique=True)
    description = models.TextField(blank=True)
    everyone = models.BooleanField(null=True, blank=True, help_text="On or off for all tenants; empty: decide below.")
    plans = models.ManyToManyField(Plan, blank=True, related_name="flags")
    percent = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    tenants_on = ArrayField(models.SlugField(max_length=63), default=list, blank=True, help_text="Tenant slugs.")
    tenants_off = ArrayField(models.SlugField(max_length=63), default=list, blank=True, help_text="Tenant slugs.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=models.Q(percent__lte=100), name="flag_percent_at_most_100")]

    def __str__(self):
        return self.name
