# OpenShield in a container: the installed package (`pip install .` at the pins of
# requirements.txt) and startup.sh, which migrates the database, keeps a supervisor running and
# serves the API with gunicorn on $PORT.
#
#   docker build -t openshield .
#   docker run -p 8000:8000 -e JWT_SECRET="$(openssl rand -hex 32)" \
#       -v openshield-data:/var/lib/openshield openshield
#
# The other settings are the environment variables listed in README.md (AZURE_*, DATABASE_URL
# for PostgreSQL, ...). JWT_SECRET is required: without it the API refuses to start.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY store ./store
COPY supervisor ./supervisor
COPY scanner ./scanner
COPY api ./api
COPY cli ./cli
RUN pip wheel --no-cache-dir --disable-pip-version-check --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8000 \
    OPENSHIELD_DATA_DIR=/var/lib/openshield
RUN useradd --system --create-home --uid 10001 --user-group openshield \
    && mkdir -p /var/lib/openshield \
    && chown openshield:openshield /var/lib/openshield
# The dependencies first, at the tested pins: this layer is reused until requirements.txt changes.
COPY requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt && rm /tmp/requirements.txt
COPY --from=build /wheels /tmp/wheels
RUN pip install --no-deps /tmp/wheels/*.whl && rm -rf /tmp/wheels
# Only startup.sh lives in /app: the code runs from site-packages, as tests/test_packaging.py checks.
WORKDIR /app
COPY startup.sh ./
USER openshield
EXPOSE 8000
# the SQLite database (unless DATABASE_URL names PostgreSQL) and the scans' run directories
VOLUME ["/var/lib/openshield"]
ENTRYPOINT ["/app/startup.sh"]
