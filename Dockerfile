# The disputes image: the API by default; the same image runs the projection
# worker and the scheduler (see docker-compose.yml). Dependencies come from
# requirements.lock (pinned and hashed; scripts/lock regenerates it).

# Build stage: a virtualenv with the locked dependencies, then the project.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/disputes
ENV PATH=/opt/disputes/bin:$PATH
WORKDIR /src
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY src ./src
# The build backend is in the lock too, so nothing unpinned is fetched here.
RUN pip install --no-deps --no-build-isolation . && pip check

# Runtime stage: the virtualenv only, run by an unprivileged user, data under /data.
FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home disputes \
    && mkdir -p /data/blobs /data/var \
    && chown -R disputes:disputes /data
COPY --from=build /opt/disputes /opt/disputes
ENV PATH=/opt/disputes/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DISPUTES_DATABASE_URL=sqlite:////data/disputes.sqlite \
    DISPUTES_BLOB_DIR=/data/blobs \
    DISPUTES_VAR_DIR=/data/var \
    DISPUTES_HOST=0.0.0.0 \
    DISPUTES_PORT=8000
USER disputes
WORKDIR /data
EXPOSE 8000
# Ready: the database answers and every read model is within DISPUTES_MAX_READY_LAG.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('DISPUTES_PORT', '8000'), timeout=4)"]
CMD ["disputes", "serve"]
