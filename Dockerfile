# One image for every service; the command picks the service and role, e.g.
#   python -m services.gateway api     python -m services.intake worker
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir uv==0.13.8 && uv pip install --system --no-cache -r requirements.lock
COPY libs ./libs
COPY services ./services
COPY schemas ./schemas
COPY scripts ./scripts
RUN uv pip install --system --no-cache --no-deps -e .
USER nobody
