# reclock: durable, enforced edit locks on PostgreSQL rows
#
#   make demo    install what is missing, build, install, and show two editors
#                racing for a row in a throwaway cluster
#   make test    install what is missing, build (test build), install, and run
#                every test suite in a throwaway cluster
#   make test-moves  as root: pg_upgrade 18 -> 19 and pg_dump 15 -> restore
#                17 keep every live lock, token and fence (test/moves)
#
# PG_MAJOR=N picks the PostgreSQL major (default 15).  A major this machine's
# Debian ships (or has installed) is used directly.  Any other (17: trixie,
# 18: sid, 19: experimental, on Debian 12) runs in a chroot of the Debian
# suite that ships it, with Debian's own binary packages: `make deps
# PG_MAJOR=N` makes the chroot once (in /var/cache/reclock/chroot-N; later runs
# take seconds) and every other target runs inside it, in this checkout, as
# `.ci/in-chroot.sh N make TARGET PG_MAJOR=N` (PG_CHROOT=yes|no forces the
# choice).  Objects are rebuilt when the major changes.
#
#   make dist    the release files: the PGXN zip and Debian's upstream
#                tarball, in build/dist (.ci/dist.sh; make test-dist builds
#                the unpacked zip and runs its make installcheck)
#   make deb     Debian's packages of one major (postgresql-N-reclock), built
#                by dpkg-buildpackage from that tarball with .ci/debian, in
#                build/deb-N (.ci/deb.sh); make test-deb installs them in a
#                clean root of the suite, runs pg_buildext installcheck, and
#                upgrades a 1.0 package with a live lock (test/deb, as root)
#
# The rest is the usual PGXS: make, make install, make installcheck.

PG_MAJOR ?= 15
PG_CHROOT ?= $(shell [ -x .ci/in-chroot.sh ] && .ci/in-chroot.sh --needed $(PG_MAJOR) && echo yes || echo no)
ifeq ($(PG_CHROOT),yes)
# PG_MAJOR is not Debian's here: every goal runs in the chroot of its suite
.DEFAULT_GOAL := all
CHROOT_GOALS := $(filter-out deps dist test-deb,$(or $(MAKECMDGOALS),all))
.PHONY: deps $(CHROOT_GOALS)
deps:
	@.ci/in-chroot.sh $(PG_MAJOR)
$(CHROOT_GOALS): deps
	.ci/in-chroot.sh $(PG_MAJOR) $(MAKE) --no-print-directory $@ PG_MAJOR=$(PG_MAJOR) PG_CHROOT=no
# Citus's source is outside the checkout: copied into the chroot first
test-citus: citus-source
# the release files are made here (git reads the repository here), built there
deb test-dist: dist
.PHONY: citus-source
citus-source: deps
	@test/citus/build.sh --stage $(PG_MAJOR)
else

EXTENSION = reclock
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)
MODULE_big = reclock
OBJS = src/cituscarry.o src/reclock.o src/keys.o src/plans.o src/rowsql.o src/store.o src/livekeys.o src/tokens.o src/citusstore.o src/acquire.o src/links.o src/children.o src/guard.o src/protect.o src/cas.o src/notify.o src/ddl.o src/citus.o
DATA = $(wildcard src/reclock--*.sql)
PGFILEDESC = "reclock - durable, enforced edit locks on rows"

PG_CPPFLAGS = -DRECLOCK_VERSION=\"$(EXTVERSION)\"
# tokens are hashed with OpenSSL's SHA-256 directly where PostgreSQL itself is
# built with OpenSSL (src/reclock.c, ReclockHashToken says why); otherwise
# through PostgreSQL's pg_cryptohash.  The options that build it with OpenSSL
# (--with-openssl, --with-ssl=openssl), not any word holding "openssl"
# (--without-openssl, a path)
RECLOCK_PG_CONFIGURE := $(shell $(or $(PG_CONFIG),pg_config) --configure 2>/dev/null)
ifneq ($(findstring --with-openssl,$(RECLOCK_PG_CONFIGURE))$(findstring --with-ssl=openssl,$(RECLOCK_PG_CONFIGURE)),)
PG_CPPFLAGS += -DRECLOCK_OPENSSL
SHLIB_LINK += -lcrypto
endif
# a test build compiles in reclock.test_clock_offset, so tests move time
ifdef RECLOCK_TESTING
PG_CPPFLAGS += -DRECLOCK_TESTING
endif

REGRESS = acquire keys expiry errors guard guard_paths token cas children children_bulk children_trust children_review children_memory privileges bad_input store \
	twophase drop ddl publication keys_session rights parallel guard_refusal plans reentry upgrade bounded ddl_cost view view_policies token_preload sweep_prepared keys_elsewhere ddl_keeps keys_memory store_am store_errors store_search_path fresh_backend key_collation store_rls children_probe lockrow_review
# UTF8: cas compares text in an ICU collation, which an SQL_ASCII database
# (a cluster made where no locale is set) cannot create
REGRESS_OPTS = --load-extension=reclock --encoding=UTF8

ISOLATION = acquire_race acquire_waits_for_write release_refresh refresh_revive \
	guard_takeover guard_release guard_rr guard_fastpath cas_lost_update notify \
	parallel_valid store_inval plan_rename epoch_cache child_parent_missing child_parent_inflight \
	child_grant_waits child_cas_children child_cache child_move child_notify child_stale child_trust_chain child_direct_lock \
	twophase_race ddl_race no_stall view_no_wait child_lock_newest child_forget store_races store_wait_timeout lockrow_exclusive lockrow_checkxmin
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=reclock

EXTRA_CLEAN = results output_iso regression.diffs regression.out tmp_check log demo.out reclock.flags

PG_CONFIG ?= pg_config
# the tests that use a test build's settings (reclock.test_clock_offset and
# the other reclock.test_*: they move reclock's clock, pause a backend) need a
# test build (RECLOCK_TESTING=1, as make test installs): installcheck leaves
# them out when the installed library is a production build (make install,
# the Debian package), and says so
ifneq ($(filter installcheck,$(MAKECMDGOALS)),)
RECLOCK_INSTALLED_SO = $(DESTDIR)$(shell $(PG_CONFIG) --pkglibdir 2>/dev/null)/reclock.so
ifeq ($(shell grep -qa reclock.test_clock_offset $(RECLOCK_INSTALLED_SO) 2>/dev/null || echo production),production)
REGRESS_TESTING_BUILD := $(patsubst sql/%.sql,%,$(shell grep -l 'reclock\.test_' /dev/null $(REGRESS:%=sql/%.sql)))
ISOLATION_TESTING_BUILD := $(patsubst test/isolation/specs/%.spec,%,$(shell grep -l 'reclock\.test_' /dev/null $(ISOLATION:%=test/isolation/specs/%.spec)))
$(info installcheck: $(RECLOCK_INSTALLED_SO) is a production build: leaving out what needs a test build (RECLOCK_TESTING=1): $(words $(REGRESS_TESTING_BUILD)) of $(words $(REGRESS)) regress tests ($(REGRESS_TESTING_BUILD)), $(words $(ISOLATION_TESTING_BUILD)) of $(words $(ISOLATION)) isolation specs ($(ISOLATION_TESTING_BUILD)))
REGRESS := $(filter-out $(REGRESS_TESTING_BUILD),$(REGRESS))
ISOLATION := $(filter-out $(ISOLATION_TESTING_BUILD),$(ISOLATION))
endif
endif
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
else
# PGXS is not installed yet: only demo, test and deps work (they install it)
all:
	@echo "PostgreSQL's PGXS is missing: run 'make demo' or 'make test' (they install it), or install postgresql-server-dev-15" >&2
	@exit 1
endif

# rebuild the objects when the build flags or the PostgreSQL major change (a
# test build and a production build, or two majors, must never be mixed); PGXS marks every file .SECONDARY,
# so the flags file is written while the Makefile is read, not by a rule
ifneq ($(PGXS),)
BUILD_FLAGS := $(PG_CPPFLAGS) $(PROFILE) PostgreSQL $(MAJORVERSION)
ifneq ($(BUILD_FLAGS),$(shell cat reclock.flags 2>/dev/null))
$(shell echo '$(BUILD_FLAGS)' > reclock.flags)
endif
$(OBJS): reclock.flags
endif

# the application suites (pooler, node example, browser, fuzz) test the
# clients, not the server: they run on the default major only
# (APP_SUITES=yes runs them on another major too)
APP_SUITES_MAJOR = 15
APP_SUITES ?= $(if $(filter $(APP_SUITES_MAJOR),$(PG_MAJOR)),yes,no)
# 19 is in experimental only: its packages and the libpq they need come from there
PG_APT = $(if $(filter 19,$(PG_MAJOR)),/experimental)
DEB_PACKAGES = make gcc libssl-dev postgresql-common postgresql-$(PG_MAJOR)$(PG_APT) postgresql-server-dev-$(PG_MAJOR)$(PG_APT) \
	libipc-run-perl libtap-parser-sourcehandler-pgtap-perl libdbd-pg-perl \
	$(if $(PG_APT),postgresql-client-$(PG_MAJOR)$(PG_APT) libpq5$(PG_APT) libpq-dev$(PG_APT))
# 18 beside 19, for test/moves (pg_upgrade from 18 to 19)
ifeq ($(PG_MAJOR),19)
DEB_PACKAGES += postgresql-18 postgresql-server-dev-18
endif
# pgTAP, where the suite packages it for this major (else `make pgtap` says SKIPPED)
ifeq ($(APP_SUITES_MAJOR),$(PG_MAJOR))
DEB_PACKAGES += postgresql-$(PG_MAJOR)-pgtap
else
PGTAP_PACKAGE := $(shell apt-cache show postgresql-$(PG_MAJOR)-pgtap >/dev/null 2>&1 && echo postgresql-$(PG_MAJOR)-pgtap)
DEB_PACKAGES += $(PGTAP_PACKAGE)
endif
# no pgTAP package for 19 yet: pgTAP is SQL only, so deps takes the SQL of
# Debian's package for 18 (postgresql-18-pgtap) into 19's extension directory
PGTAP_BORROW = $(if $(filter 19,$(PG_MAJOR)),$(if $(PGTAP_PACKAGE),,18))
ifeq ($(APP_SUITES),yes)
DEB_PACKAGES += pgbouncer python3-psycopg2 python3-django python3-selenium chromium chromium-driver sqlsmith
endif
WERROR = -Wall -Werror -Wno-unused-parameter
STRESS_SECONDS ?= 10

.PHONY: test-citus citus-source
# reclock in a Citus cluster (a coordinator and two workers on loopback:
# test/citus/run.sh).  Citus is built once from its source (CITUS_TARBALL;
# test/citus/build.sh) and kept installed; Citus 14 needs PostgreSQL 16-18.
test-citus: deps
	@case "$(PG_MAJOR)" in 16|17|18) ;; *) echo "test-citus: Citus 14 needs PostgreSQL 16 to 18 (make test-citus PG_MAJOR=17)" >&2; exit 1 ;; esac
	PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config test/citus/build.sh
	$(MAKE) --no-print-directory clean >/dev/null
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config RECLOCK_TESTING=1 PROFILE="$(WERROR)" all
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config RECLOCK_TESTING=1 PROFILE="$(WERROR)" install >/dev/null
	PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config test/citus/run.sh

.PHONY: deps demo test test-core layout-check test-moves flaky-check installcheck-diffs test-run tap tap-run pgtap stress bench check-memory pgindent

# install the Debian packages that are missing (needs root, or sudo; all of
# them are named to apt, so that the /experimental ones of 19 come together)
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $${p%/*} 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(DEB_PACKAGES) >/dev/null || exit 1; \
	fi
ifneq ($(PGTAP_BORROW),)
	@ext=/usr/share/postgresql/$(PG_MAJOR)/extension; \
	if [ ! -f $$ext/pgtap.control ]; then \
	  echo "pgTAP for $(PG_MAJOR): the SQL of postgresql-$(PGTAP_BORROW)-pgtap"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  d=$$(mktemp -d) && chmod 755 $$d && cd $$d && $$SUDO apt-get download -qq postgresql-$(PGTAP_BORROW)-pgtap 2>/dev/null && \
	  dpkg-deb -x postgresql-$(PGTAP_BORROW)-pgtap_*.deb x && \
	  $$SUDO cp x/usr/share/postgresql/$(PGTAP_BORROW)/extension/pgtap* $$ext/ && cd / && rm -rf $$d || exit 1; \
	fi
endif

demo: deps
	$(MAKE) --no-print-directory clean >/dev/null
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config all
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config install >/dev/null
	pg_virtualenv -v $(PG_MAJOR) psql -X -q -v ON_ERROR_STOP=1 -f examples/psql/demo.sql

test: deps
	$(MAKE) --no-print-directory clean >/dev/null
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config RECLOCK_TESTING=1 PROFILE="$(WERROR)" all
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config RECLOCK_TESTING=1 layout-check
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config RECLOCK_TESTING=1 PROFILE="$(WERROR)" install >/dev/null
	pg_virtualenv -v $(PG_MAJOR) -o wal_level=logical -o max_prepared_transactions=10 $(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config PG_MAJOR=$(PG_MAJOR) test-run
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config RECLOCK_TESTING=1 tap

# pg_regress and the isolation tester alone (the least .ci/run runs on a newer
# major: CI_MAJOR_TEST=test-core): build, install, one throwaway cluster
test-core: deps
	$(MAKE) --no-print-directory clean >/dev/null
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config RECLOCK_TESTING=1 PROFILE="$(WERROR)" all
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config RECLOCK_TESTING=1 layout-check
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config RECLOCK_TESTING=1 PROFILE="$(WERROR)" install >/dev/null
	pg_virtualenv -v $(PG_MAJOR) -o max_prepared_transactions=10 $(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config installcheck-diffs

# moving between majors keeps every live lock, token and fence
# (test/moves/run.sh, as root): pg_upgrade from 18 to 19 in the chroot of 19,
# and a 15 cluster dumped (by 17's pg_dump over TCP and by 15's own) and
# restored on 17; each major runs where `make test PG_MAJOR=N` runs it
# (MOVES_CHROOT="15" runs 15 in its chroot too).  Not part of `make test`,
# which tests one major: .ci/run runs it after the majors.
test-moves:
	test/moves/run.sh

# hunt flaky tests: the regress suite and every isolation spec FLAKY_RUNS
# times (default 10) with the CPUs kept busy, then the stress and TAP suites a
# few times (FLAKY_STRESS, FLAKY_TAP); prints each test's failure count
# (test/flaky/run.sh; takes about half an hour)
FLAKY_RUNS ?= 10
flaky-check: deps
	$(MAKE) --no-print-directory clean >/dev/null
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config RECLOCK_TESTING=1 PROFILE="$(WERROR)" all
	$(MAKE) --no-print-directory PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config RECLOCK_TESTING=1 PROFILE="$(WERROR)" install >/dev/null
	pg_virtualenv -v $(PG_MAJOR) -o wal_level=logical -o max_prepared_transactions=10 env FLAKY_RUNS=$(FLAKY_RUNS) REGRESS_LIST="$(REGRESS)" ISOLATION_LIST="$(ISOLATION)" \
	  PG_CONFIG=/usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config test/flaky/run.sh

# the layout: each file of src/ uses only the files below it (the order of
# reclock.h's sections); reads the object files, so after a build
layout-check: $(OBJS)
	test/layout/check.sh src

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
	  if [ -n "$(PGTAP_OPTIONAL)" ]; then \
	    echo "== pgTAP: SKIPPED (PGTAP_OPTIONAL): no pgTAP for $$($(PG_CONFIG) --version)"; exit 0; \
	  fi; \
	  echo "== pgTAP: FAILED: no pgTAP for $$($(PG_CONFIG) --version) (no pgtap.control in $$($(PG_CONFIG) --sharedir)/extension; PGTAP_OPTIONAL=1 skips it)" >&2; \
	  exit 1; \
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

.PHONY: deb test-dist
# Debian's packages of PG_MAJOR from the release tarball (.ci/deb.sh: in a
# temporary directory, the tarball unpacked and .ci/debian as its debian/)
deb: dist
	.ci/deb.sh $(PG_MAJOR)

# the PGXN zip unpacked builds, installs and passes make installcheck
test-dist: dist
	test/dist/run.sh $(PG_MAJOR)

endif # PG_CHROOT

.PHONY: dist test-deb
dist:
	@.ci/dist.sh build/dist

# the packages of PG_MAJOR installed in a clean root of its suite (made here,
# as root): pg_buildext installcheck, and apt upgrading a 1.0 package under a
# live lock (test/deb/run.sh)
test-deb:
	$(MAKE) --no-print-directory deb PG_MAJOR=$(PG_MAJOR)
	test/deb/run.sh $(PG_MAJOR)
