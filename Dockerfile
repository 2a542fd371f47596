# The one image behind every notifier service: api, workers, scheduler and migrate differ
# only in their command (see docker-compose.yml).
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY . .
# Editable, because the message templates live in templates/ beside the package
# (bootstrap.TEMPLATES_DIR), not inside it: the code must run from /app to find them.
RUN pip install --editable . \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin notifier \
    && mkdir -p /app/instance \
    && chown notifier /app/instance

USER notifier
EXPOSE 8000
CMD ["notifier", "api", "--bind", "0.0.0.0:8000"]
