# One image for every service; the command picks the service and role, e.g.
#   python -m services.gateway api     python -m services.intake worker

# The web app's assets, from the npm registry at build time (never a CDN at run time).
FROM node:20-slim AS web-assets
WORKDIR /web
COPY services/gateway/web/package.json services/gateway/web/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir uv==0.13.8 && uv pip install --system --no-cache -r requirements.lock
COPY libs ./libs
COPY services ./services
COPY schemas ./schemas
COPY scripts ./scripts
COPY --from=web-assets /web/node_modules/htmx.org/dist/htmx.min.js \
     /web/node_modules/sortablejs/Sortable.min.js ./services/gateway/web/static/vendor/
RUN uv pip install --system --no-cache --no-deps -e .
USER nobody
