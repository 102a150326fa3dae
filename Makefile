# reclock: durable, enforced edit locks on PostgreSQL rows
#
#   make demo    install what is missing, build, install, and show two editors
#                racing for a row in a throwaway cluster
#   make test    install what is missing, build (test build), install, and run
#                every test suite in a throwaway cluster
#
# PG_MAJOR=N picks the PostgreSQL major (default 15, bookworm's packages); 17,
# 18 and 19 are built from Debian's source packages by .ci/build-pg.sh
# (`make deps PG_MAJOR=18`; cached: a second run takes a second).
#
# The rest is the usual PGXS: make, make install, make installcheck.

EXTENSION = reclock
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)
MODULE_big = reclock
OBJS = src/reclock.o src/keys.o src/plans.o src/store.o src/acquire.o src/guard.o src/children.o src/cas.o src/notify.o src/ddl.o
DATA = $(wildcard src/reclock--*.sql)
PGFILEDESC = "reclock - durable, enforced edit locks on rows"

PG_CPPFLAGS = -DRECLOCK_VERSION=\"$(EXTVERSION)\"
# a test build compiles in reclock.test_clock_offset, so tests move time
ifdef RECLOCK_TESTING
PG_CPPFLAGS += -DRECLOCK_TESTING
endif

REGRESS = acquire keys expiry errors guard guard_paths token cas children children_bulk privileges bad_input store \
	twophase drop ddl publication keys_session rights parallel guard_refusal plans reentry upgrade bounded ddl_cost
REGRESS_OPTS = --load-extension=reclock

ISOLATION = acquire_race acquire_waits_for_write release_refresh refresh_revive \
	guard_takeover guard_release guard_rr guard_fastpath cas_lost_update notify \
	parallel_valid store_inval plan_rename epoch_cache child_parent_missing child_parent_inflight \
	child_grant_waits child_cas_children child_cache child_move child_notify child_stale \
	ddl_race no_stall
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=reclock

EXTRA_CLEAN = results output_iso regression.diffs regression.out tmp_check log demo.out reclock.flags

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
else
# PGXS is not installed yet: only demo, test and deps work (they install it)
all:
	@echo "PostgreSQL's PGXS is missing: run 'make demo' or 'make test' (they install it), or install postgresql-server-dev-15" >&2
	@exit 1
endif

# rebuild the objects when the build flags change (a test build and a
# production build must never be mixed); PGXS marks every file .SECONDARY,
# so the flags file is written while the Makefile is read, not by a rule
ifneq ($(PGXS),)
BUILD_FLAGS := $(PG_CPPFLAGS) $(PROFILE)
ifneq ($(BUILD_FLAGS),$(shell cat reclock.flags 2>/dev/null))
$(shell echo '$(BUILD_FLAGS)' > reclock.flags)
endif
$(OBJS): reclock.flags
endif

PG_MAJOR ?= 15
# the majors bookworm has no binary packages for: .ci/build-pg.sh builds them
# from Debian's source packages (17: trixie, 18: sid, 19: experimental)
SOURCE_MAJORS = 17 18 19
FROM_SOURCE = $(filter $(PG_MAJOR),$(SOURCE_MAJORS))
# the application suites (pooler, node example, browser, fuzz) test the
# clients, not the server: they run on the default major only
# (APP_SUITES=yes runs them on another major too)
APP_SUITES_MAJOR = 15
APP_SUITES ?= $(if $(filter $(APP_SUITES_MAJOR),$(PG_MAJOR)),yes,no)
ifeq ($(FROM_SOURCE),)
DEB_PACKAGES = postgresql-$(PG_MAJOR) postgresql-server-dev-$(PG_MAJOR) \
	postgresql-$(PG_MAJOR)-pgtap libipc-run-perl libtap-parser-sourcehandler-pgtap-perl \
	pgbouncer python3-psycopg2 python3-django python3-selenium chromium chromium-driver \
	sqlsmith libdbd-pg-perl
else
# the server, PGXS, pg_regress, the isolation tester, TAP modules and pgTAP
# come from .ci/build-pg.sh; these are what the suites run on N use besides
DEB_PACKAGES = postgresql-common libipc-run-perl libtap-parser-sourcehandler-pgtap-perl \
	libdbd-pg-perl
endif
WERROR = -Wall -Werror -Wno-unused-parameter
STRESS_SECONDS ?= 10

.PHONY: deps demo test test-core installcheck-diffs test-run tap tap-run pgtap stress bench check-memory pgindent

# install the Debian packages that are missing (needs root, or sudo)
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null || exit 1; \
	fi
ifneq ($(FROM_SOURCE),)
	@SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; $$SUDO .ci/build-pg.sh $(PG_MAJOR)
endif

demo: deps
	$(MAKE) --no-print-directory clean >/dev/null
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config all
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config install >/dev/null
	pg_virtualenv -v $(PG_MAJOR) psql -X -q -v ON_ERROR_STOP=1 -f examples/psql/demo.sql

test: deps
	$(MAKE) --no-print-directory clean >/dev/null
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config RECLOCK_TESTING=1 PROFILE="$(WERROR)" all
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config RECLOCK_TESTING=1 PROFILE="$(WERROR)" install >/dev/null
	pg_virtualenv -v $(PG_MAJOR) -o wal_level=logical $(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config PG_MAJOR=$(PG_MAJOR) test-run
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config tap

# pg_regress and the isolation tester alone (the least .ci/run runs on a newer
# major: CI_MAJOR_TEST=test-core): build, install, one throwaway cluster
test-core: deps
	$(MAKE) --no-print-directory clean >/dev/null
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config RECLOCK_TESTING=1 PROFILE="$(WERROR)" all
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config RECLOCK_TESTING=1 PROFILE="$(WERROR)" install >/dev/null
	pg_virtualenv -v $(PG_MAJOR) $(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config installcheck-diffs

# installcheck that prints the diffs when it fails
installcheck-diffs:
	@rc=0; \
	$(MAKE) --no-print-directory installcheck || rc=1; \
	if [ $$rc != 0 ]; then \
	  for f in regression.diffs output_iso/regression.diffs; do [ -f $$f ] && cat $$f; done; exit 1; \
	fi

# inside a throwaway cluster: pg_regress, isolation tester, pgTAP, demo, the
# application suites (on PG_MAJOR 15 only, unless APP_SUITES=yes), stress
test-run:
	@echo "== pg_regress and isolation tester ($$($(PG_CONFIG) --version))"
	@$(MAKE) --no-print-directory installcheck-diffs
	$(MAKE) --no-print-directory pgtap
	@echo "== demo (examples/psql/demo.sql)"
	@psql -X -q -v ON_ERROR_STOP=1 -f examples/psql/demo.sql >demo.out 2>&1 || { cat demo.out; exit 1; }
	@grep -q 'locked by "alice"' demo.out && grep -q '"current": 15, "expected": 12' demo.out || { echo "demo: unexpected output"; cat demo.out; exit 1; }
	@echo "demo: ok"
ifeq ($(APP_SUITES),yes)
	@echo "== pooler (test/pooler)"
	test/pooler/run.sh
	@echo "== examples/node"
	examples/node/run.sh
	@echo "== browser (test/browser: the Django example in headless Chromium)"
	test/browser/run.sh
	@echo "== fuzz (sqlsmith and random calls, as an unprivileged role)"
	test/fuzz/run.sh
else
	@echo "== pooler, examples/node, browser, fuzz: not run on PostgreSQL $(PG_MAJOR) (they test the clients; they run on $(APP_SUITES_MAJOR); APP_SUITES=yes runs them here)"
endif
	@echo "== stress ($(STRESS_SECONDS)s; make stress runs 30s)"
	STRESS_SECONDS=$(STRESS_SECONDS) test/stress/run.sh

# Perl TAP (PostgreSQL::Test::Cluster): crash, restart, standby, killed
# backends.  initdb refuses root, so as root the tests run as user postgres
# from a copy of the tree that user can write to.
TAP_USER ?= postgres
tap:
	@if [ "$$(id -u)" = 0 ]; then \
	  dir=$$(mktemp -d /tmp/reclock-tap.XXXXXX); \
	  tar --exclude=.git -cf - . | tar -xf - -C $$dir; \
	  chown -R $(TAP_USER) $$dir; \
	  runuser -u $(TAP_USER) -- $(MAKE) --no-print-directory -C $$dir PG_CONFIG=$(PG_CONFIG) tap-run; \
	  rc=$$?; rm -rf $$dir; exit $$rc; \
	else \
	  $(MAKE) --no-print-directory PG_CONFIG=$(PG_CONFIG) tap-run; \
	fi

tap-run:
	$(MAKE) --no-print-directory installcheck REGRESS= ISOLATION= TAP_TESTS=1 PROVE_TESTS='test/t/*.pl' PROVE_FLAGS=--timer

# reclock's C code under valgrind memcheck (a test build; not part of make test:
# it takes minutes).  As root, it runs as user postgres from a copy of the tree.
check-memory: deps
	$(MAKE) --no-print-directory clean >/dev/null
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config RECLOCK_TESTING=1 all
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config RECLOCK_TESTING=1 install >/dev/null
	@if ! command -v valgrind >/dev/null; then apt-get install -y -qq valgrind >/dev/null; fi
	@if [ "$$(id -u)" = 0 ]; then \
	  dir=$$(mktemp -d /tmp/reclock-mem.XXXXXX); \
	  tar --exclude=.git -cf - . | tar -xf - -C $$dir; \
	  chown -R $(TAP_USER) $$dir; \
	  runuser -u $(TAP_USER) -- $$dir/test/memory/run.sh; \
	  rc=$$?; rm -rf $$dir; exit $$rc; \
	else \
	  test/memory/run.sh; \
	fi

pgtap:
	@if [ ! -f "$$($(PG_CONFIG) --sharedir)/extension/pgtap.control" ]; then \
	  echo "== pgTAP: SKIPPED: no pgTAP for $$($(PG_CONFIG) --version) (no pgtap.control in $$($(PG_CONFIG) --sharedir)/extension)"; \
	  exit 0; \
	fi; \
	echo "== pgTAP"; \
	psql -X -q -c 'DROP DATABASE IF EXISTS reclock_pgtap' -c 'CREATE DATABASE reclock_pgtap' && \
	psql -X -q -d reclock_pgtap -c 'CREATE EXTENSION pgtap' -c 'CREATE EXTENSION reclock' && \
	pg_prove -d reclock_pgtap test/pgtap/*.sql

# the stress test alone, 30 s, in a throwaway cluster (needs a built and installed reclock)
stress:
	pg_virtualenv -v $(PG_MAJOR) -o wal_level=logical env STRESS_SECONDS=30 test/stress/run.sh

# the bench (not part of make test): a production build, one throwaway
# cluster, every scenario side by side with its comparators
bench: deps
	$(MAKE) --no-print-directory clean >/dev/null
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config all
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config install >/dev/null
	pg_virtualenv -v $(PG_MAJOR) bench/run.sh

pgindent:
	pgindent --typedefs=src/typedefs.list src/*.c src/*.h
