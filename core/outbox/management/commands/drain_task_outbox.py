from core.commands import ServiceCommand
from core.outbox.services import outbox_drain


class Command(ServiceCommand):
    help = "Send the Celery tasks kept in the outbox while the broker was down (beat does it too)."

    def run(self, *args, **options):
        self.stdout.write(f"Sent {outbox_drain()} pending task(s).")
