"""gunicorn's settings for Tessera: `gunicorn -c config/gunicorn.py config.wsgi:application`.

The Dockerfile's command and the end-to-end test load this file; flags on the command
line (bind, workers) and GUNICORN_CMD_ARGS override what is set here.
"""

import os

from gunicorn.http import wsgi

# X-Forwarded-Proto (and the other secure-scheme headers) are believed only from these
# peers: the load balancer's addresses, plus 127.0.0.1 for the container's health
# check. Never every peer by default: anyone reaching port 8000 could claim HTTPS.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# gunicorn's own limit on the request line (it answers 414 in HTML beyond it), raised to
# its maximum so the application's lower MAX_URI_LENGTH answers, in JSON, nearly always.
limit_request_line = 8190

# gunicorn writes `Server: gunicorn` on every response and has no setting for it; the
# header only tells a scanner what to try. Drop it from the headers gunicorn adds.
_default_headers = wsgi.Response.default_headers


def _default_headers_without_server(self):
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


wsgi.Response.default_headers = _default_headers_without_server
