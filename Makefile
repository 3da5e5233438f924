# The two commands of the README: `make demo` and `make test`. Both set up
# .venv first (once; later calls take a second).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.ssd-course-setup

.PHONY: setup demo test bench stubs lessons release clean-venv

setup: $(STAMP)

$(STAMP): pyproject.toml
	@echo "==> make setup: creating $(VENV) and installing ssd-course[dev] (2-3 minutes the first time)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --disable-pip-version-check -e '.[dev]'
	@$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ssd-course)" >/dev/null
	@sh .ci/ensure-bwrap
	@touch $(STAMP)
	@echo "==> make setup: done ($(VENV))"

demo: setup
	@echo "==> make demo: the course end to end on the synthetic dataset, with the reference solutions"
	$(BIN)/ssd-course demo

test: setup
	@echo "==> make test: the whole test suite"
	$(BIN)/python -m pytest tests --durations=15

bench: setup
	$(BIN)/ssd-course bench

stubs: setup
	$(BIN)/ssd-course stubs

lessons: setup
	$(BIN)/ssd-course run-lessons out/lessons

release: setup
	$(BIN)/ssd-course release out/student

clean-venv:
	rm -rf $(VENV)
