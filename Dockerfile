# The Pledge Monitor image: one image for the worker, the web app, the codec server and
# the migration job (docker-compose.yml picks the command). Built in two stages: the
# wheel is built with the build tools, then installed into a slim image that has no
# compiler, no source tree and runs as an unprivileged user.

FROM python:3.11.14-slim-bookworm AS build
WORKDIR /src
RUN python -m pip install --no-cache-dir --upgrade pip build
COPY pyproject.toml README.md config.py bootstrap.py worker.py ./
COPY standards standards
COPY storage storage
COPY messaging messaging
COPY adapters adapters
COPY engine engine
COPY workflows workflows
COPY activities activities
COPY service service
COPY reporting reporting
COPY web web
COPY cli cli
RUN python -m build --wheel --outdir /wheels . \
 && python -m pip wheel --no-cache-dir --wheel-dir /wheels /wheels/pledge_monitor-*.whl

FROM python:3.11.14-slim-bookworm AS runtime
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PLEDGE_POLICY_DIR=/opt/pledge/policies \
    PLEDGE_TEMPLATE_DIR=/opt/pledge/templates \
    PLEDGE_DATA_DIR=/tmp/pledge \
    PLEDGE_LOG_FORMAT=json \
    PLEDGE_WORKER_METRICS_PORT=9464
# Installed from the wheels alone: what runs is exactly what was built, and the
# bytecode is compiled now, since the root filesystem is read-only at run time.
COPY --from=build /wheels /wheels
RUN python -m pip install --no-index --find-links /wheels pledge-monitor \
 && rm -rf /wheels \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin pledge
COPY policies /opt/pledge/policies
COPY templates /opt/pledge/templates
USER pledge
WORKDIR /opt/pledge
EXPOSE 8000 8081 9464 9465
# The worker is the default command; the web app and the codec server override both
# the command and the health check (docker-compose.yml).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=6 \
  CMD ["pledge", "worker-health"]
CMD ["pledge", "worker"]
