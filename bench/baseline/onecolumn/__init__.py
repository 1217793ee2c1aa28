"""A tenant app with one migration that adds one column to every tenant's products
table: what `bench/scale.py` times as a real migration across all tenants. Installed
only by `bench.baseline.settings_onecolumn`, never by Tessera's settings."""
