# The assistant (or your project, in place of the repository's files) as an image that
# `parlez run` serves: the model is trained while the image is built, so a replica starts in
# seconds and never trains. Used by deploy/compose and deploy/helm (docs/deploy.md).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# The sentence encoder exported by the training below is kept in the image, so a replica
# loads it instead of exporting it at every start (docs/nlu.md).
ENV PARLEZ_CACHE_DIR=/app/.cache
RUN useradd --create-home --uid 1000 parlez
WORKDIR /app

# torch's CPU build (a plain `torch` pulls the CUDA one, gigabytes), then parlez with what
# a replica needs: the assistant's extras, PostgreSQL, Redis and RabbitMQ.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md LICENSE ./
COPY parlez ./parlez
COPY domain.yml config.yml credentials.yml endpoints.yml business.yml analytics.yml marketing.yml ./
COPY data ./data
COPY follow_ups ./follow_ups
COPY actions ./actions
COPY connectors ./connectors
COPY tests/test_stories.yml ./tests/test_stories.yml
RUN pip install '.[assistant,postgres,redis,rabbitmq]' \
    && parlez train --out models \
    && chown -R parlez:parlez /app

USER parlez
EXPOSE 5005
# Secrets come from the environment (PARLEZ_AUTH_TOKEN, PARLEZ_SECRET_KEY, the database's
# password...), the endpoints file from a mounted path (PARLEZ_ENDPOINTS_FILE).
CMD ["sh", "-c", "exec parlez run --no-train --enable-api -i 0.0.0.0 -p 5005 --log-format json --endpoints ${PARLEZ_ENDPOINTS_FILE:-endpoints.yml}"]
