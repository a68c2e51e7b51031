# reglab for a classroom: a small CPU image that serves the dashboard (reglab:local), and the same
# recipe with Ray added (reglab:ray) for the `cluster` profile of docker-compose.yml, where it is
# also a Ray head or worker. docs/classroom.md says why two images and how to build without
# access to Docker Hub or PyTorch's index.
#
#   PYTHON_IMAGE     the base image of both stages: a Debian with Python 3.11 and a `python`.
#   TORCH_SOURCE     where the CPU build of torch comes from: a pip index URL, or a directory
#                    (bind-mounted into the build) holding the torch-2.13.0+cpu wheel.
#   REGLAB_EXECUTOR  `ray` adds the ray extra; anything else (default `local`) leaves Ray out.
ARG PYTHON_IMAGE=python:3.11-slim

# ---- builder: resolve and install everything into a venv that the final stage copies whole ----
FROM ${PYTHON_IMAGE} AS builder
ARG TORCH_SOURCE=https://download.pytorch.org/whl/cpu

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# binutils for `strip` below; only in this stage.
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends binutils \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# The CPU build of torch first: the default PyPI wheel drags in ~3 GB of CUDA libraries that a
# CPU-only classroom server never uses. From a directory, torch's own dependencies still come from
# PyPI; the directory's 2.13.0+cpu outranks PyPI's 2.13.0 (a local version sorts higher), and the
# check after it refuses any other build. Its own layer, so code changes do not download it again.
RUN case "$TORCH_SOURCE" in \
      /*) pip install --find-links "$TORCH_SOURCE" torch==2.13.0 ;; \
      *) pip install --index-url "$TORCH_SOURCE" torch==2.13.0 ;; \
    esac \
 && python -c "import torch; v = torch.__version__; assert v.endswith('+cpu'), f'not the CPU build: {v}'"

WORKDIR /src
# Declared here, not above: both images share the torch layer.
ARG REGLAB_EXECUTOR=local
# The dependency lists come from pyproject.toml alone, so this layer is rebuilt only when they change.
COPY pyproject.toml ./
RUN python -c "import sys, tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
extra = p['optional-dependencies']['ray'] if sys.argv[1] == 'ray' else []; \
print('\n'.join(p['dependencies'] + extra))" "$REGLAB_EXECUTOR" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt

# What a server never runs, measured in docs/classroom.md: torch's C++ headers, test binaries and
# protoc (~190 MB), the test suites shipped inside numpy, scipy, scikit-learn, sympy and networkx
# (~100 MB), and the symbol tables of compiled modules (~135 MB, ~98 MB of it torch's). The
# vendored libraries under *.libs/ keep theirs: auditwheel patched them, and strip breaks those.
# pip and setuptools (nothing imports them at run time) go after the last install.
RUN site=$(python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])") \
 && rm -rf "$site/torch/include" "$site/torch/test" "$site/torch/share" \
    "$site"/torch/bin/protoc* "$site"/torch/bin/*Test "$site"/torch/bin/test_* \
 && for pkg in numpy scipy sklearn sympy networkx; do \
      find "$site/$pkg" -depth -type d -name tests -exec rm -rf {} + ; \
    done \
 && find "$site" -type f -name '*.so*' -not -path '*.libs/*' \
      -exec sh -c 'strip --strip-unneeded "$@" 2>/dev/null || :' strip {} +

COPY README.md ./
COPY backend ./backend
# Not editable: the final stage has no source tree, only the venv (migrations ship as package data).
# The checks prove the trimmed venv still trains (an optimizer step imports torch._dynamo, the
# datasets import scipy) and, in reglab:ray, that Ray starts.
RUN pip install --no-deps . \
 && pip uninstall -y -q pip setuptools \
 && python -c "import reglab.cli, torch, sklearn.datasets as d; d.load_digits(); d.make_moons(9); \
m = torch.nn.Linear(2, 1); o = torch.optim.Adam(m.parameters()); m(torch.ones(1, 2)).sum().backward(); o.step()" \
 && if [ "$REGLAB_EXECUTOR" = ray ]; then python -c "import reglab.jobs.ray" && ray --version; fi

# ---- final: the venv, the frontend and a non-root user; no compilers, no pip cache ----
FROM ${PYTHON_IMAGE}

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
