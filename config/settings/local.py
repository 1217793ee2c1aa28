"""Development: the defaults of `make run` (DEBUG on, e-mail to the console)."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
WHITENOISE_USE_FINDERS = True
