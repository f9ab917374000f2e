# The app image of compose.yaml: one image for the api, worker, dns and migrate services.

# The native filter engine (a C extension) is compiled here, so the image that runs carries
# neither a compiler nor the build's leftovers; without it the pure-Python engine would run.
FROM python:3.11-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY pyproject.toml setup.py constraints.txt README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir -c constraints.txt --wheel-dir /wheels .

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links /wheels child-safe-sim \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin parental \
    && mkdir -p /app/var \
    && chown parental /app/var

USER parental
ENV PARENTAL_DATA_DIR=/app/var
EXPOSE 8000

ENTRYPOINT ["parental"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
