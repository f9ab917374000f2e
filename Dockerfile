# The app image of compose.yaml: one image for the api, worker, dns and migrate services.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
RUN pip install -c constraints.txt . \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin parental \
    && mkdir -p /app/var \
    && chown parental /app/var

USER parental
ENV PARENTAL_DATA_DIR=/app/var
EXPOSE 8000

ENTRYPOINT ["parental"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
