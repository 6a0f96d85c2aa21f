# The image docker-compose.yml runs for web, worker and beat.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY . .
ARG BUILD_ENV="DEBUG=0 SECRET_KEY=build-time-only-key-never-used-to-serve-requests"
RUN pip install --no-cache-dir . \
 && env $BUILD_ENV python manage.py compile_translations \
 && env $BUILD_ENV python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "ksbb.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
