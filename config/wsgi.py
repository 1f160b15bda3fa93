import os

from django.core.wsgi import get_wsgi_application

from config.scheduler import embedded_schedule_start

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()
# runserver and gunicorn both load this module in the serving process: without a broker, that
# process also runs the periodic jobs (one process per database; see config/scheduler.py).
embedded_schedule = embedded_schedule_start()
