"""Gunicorn settings for production: ``gunicorn -c config/gunicorn.py`` (the Procfile and the
systemd unit in deploy/ run exactly this). Each value can be changed from the environment.

Slow clients: gthread workers read each request on a thread of their own and park idle
keep-alive connections in a poller, so a slow upload or a phone on a bad network holds one
thread, not a whole worker process. Facing the internet, put a buffering proxy (nginx with its
default ``proxy_request_buffering on``) in front as well: it takes whole requests before it
passes them on, so no number of slow clients can tie up the threads.
"""

import os
from pathlib import Path

# The project's own run directory: the control socket (gunicorn 27 otherwise puts it in the shared
# $XDG_RUNTIME_DIR or ~/.gunicorn, where two apps would collide), the pid file and the workers'
# heartbeat files. systemd's RuntimeDirectory= sets RUN_DIR to /run/onebacklog.
RUN_DIR = Path(os.environ.get("RUN_DIR") or Path(__file__).resolve().parent.parent / "run")
RUN_DIR.mkdir(parents=True, exist_ok=True)

wsgi_app = "config.wsgi:application"
bind = os.environ.get("BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"

worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", str(min(2 * (os.cpu_count() or 1) + 1, 8))))
threads = int(os.environ.get("WEB_THREADS", "4"))
keepalive = 5
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))  # a request running longer has its worker restarted
graceful_timeout = 30
max_requests = 2000  # recycle workers now and then, a little apart
max_requests_jitter = 200

control_socket = str(RUN_DIR / "gunicorn.ctl")
pidfile = str(RUN_DIR / "gunicorn.pid")
worker_tmp_dir = str(RUN_DIR)

# Behind a proxy on another address, list it so its X-Forwarded-Proto is believed.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
