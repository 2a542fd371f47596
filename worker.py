"""Celery entry point: ``celery -A worker worker -Q transactional`` (or ``notifier worker``)."""

from notifier import logs
from notifier.config import Settings
from notifier.tasks import create_celery, warm_up_on_start

settings = Settings.from_env()
logs.configure(settings.log_level)
app = create_celery(settings)
warm_up_on_start(app)
