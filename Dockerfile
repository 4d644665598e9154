FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir .
RUN useradd --create-home disputes && mkdir -p /data && chown disputes /data
USER disputes
EXPOSE 8000
CMD ["disputes", "serve", "--host", "0.0.0.0"]
