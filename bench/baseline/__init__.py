"""Bench-only baselines for `bench/request_path.py`: the same product list, served by the
same code, without what Tessera adds on the request path.

- `settings_stock`: Django's stock PostgreSQL backend, no tenant routing (the connection
  opens in the tenant's schema through its startup options), no authentication, no
  throttling, no plan.
- `settings_routed`: plain django-tenants routing (its own backend and middleware,
  a `Domain` query per request), no authentication, no throttling, no plan.

Both keep the rest of Tessera's middleware (headers, request id, access log, metrics,
write transactions), so what the ratio measures is routing, authentication, throttling
and the plan: the parts that make a request a tenant user's request. Never used outside
the benchmark.
"""
