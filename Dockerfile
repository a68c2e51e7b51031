# reglab for a classroom: one small CPU image that serves the dashboard and, with another command,
# is a Ray head or worker of the `cluster` profile in docker-compose.yml.

# ---- builder: resolve and install everything into a venv that the final stage copies whole ----
FROM python:3.11-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# The CPU build of torch first, from PyTorch's own index: the default PyPI wheel drags in ~3 GB of
# CUDA libraries that a CPU-only classroom server never uses. Its own layer, so code changes
# do not download it again.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

WORKDIR /src
# The dependency lists come from pyproject.toml alone, so this layer is rebuilt only when they change.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['ray']))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt

COPY backend ./backend
# Not editable: the final stage has no source tree, only the venv (migrations ship as package data).
RUN pip install --no-deps . \
 && python -c "import reglab.jobs.ray, reglab.cli"

# ---- final: the venv, the frontend and a non-root user; no compilers, no pip cache ----
FROM python:3.11-slim

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    RAY_USAGE_STATS_ENABLED=0

RUN groupadd --system --gid 10001 reglab \
 && useradd --system --uid 10001 --gid reglab --create-home --home-dir /home/reglab reglab

COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# Settings.frontend_dir finds /app/frontend when the package is not in a checkout.
COPY frontend ./frontend
COPY docker/entrypoint.sh /usr/local/bin/reglab-entrypoint
# The SQLite file lives here (the default REGLAB_DATABASE_URL is relative to /app). A fresh named
# volume copies this directory's owner, so the non-root user can write to it.
RUN chmod 0755 /usr/local/bin/reglab-entrypoint \
 && mkdir -p /app/data \
 && chown reglab:reglab /app/data
VOLUME ["/app/data"]

USER reglab
EXPOSE 8000

# slim has no curl; Python's urllib does the same. A non-200 answer raises, so the check fails.
HEALTHCHECK --interval=15s --timeout=5s --start-period=40s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4)"]

ENTRYPOINT ["reglab-entrypoint"]
CMD ["reglab", "serve", "--host", "0.0.0.0", "--port", "8000"]
