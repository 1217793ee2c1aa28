"""An e-mail backend whose relay refuses: the one part of a job that cannot run here.

`settings.EMAIL_BACKEND = "testing.mail.RefusingBackend"` makes every send raise
SMTPServerDisconnected, as a relay that is down would; tests then switch back to
Django's locmem backend and see what a retry sends.
"""

from smtplib import SMTPServerDisconnected

from django.core.mail.backends.base import BaseEmailBackend


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise SMTPServerDisconnected("Connection unexpectedly closed (test relay is down)")
