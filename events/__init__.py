"""Domain events and signed webhooks: a transactional outbox per tenant.

Events are derived from the audit trail rather than recorded at a second call site in
each service: `audit_record` already runs exactly once per write, inside the write's
transaction and in the tenant's schema, in every service, admin action and command.
Listening there (events.services.event_record_from_audit) makes one place decide what
is an event (events.catalog) and leaves no service able to forget it; a rolled-back
write leaves neither its audit record nor its event. The event's `data` is rendered by
the owning app's API serializer, so events sits above the domain apps it renders.

See services.py for sequencing, dispatch and delivery, outbound.py for the safe HTTP
client, signing.py for the Standard Webhooks signature.
"""
