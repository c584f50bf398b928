# ppx — the public-protection exchange.
#
#   make            build libppx, ppxd and ppx
#   make test       build and run every test (unit, fuzz corpora, scenarios)
#   make test SAN=1 the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make test VALGRIND=1  the same under valgrind (tests/run-tests says what
#                   it cuts down there)
#   make demo       build, make a demo PKI and exercise it
#   make bench      benchmarks (medians of several runs)
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS (clang)
#   make install    install under PREFIX (default /usr/local), into DESTDIR
#   make uninstall  remove what make install put there
#   make deb        the Debian package, into $(BUILD)/deb (debian/)
#
# Every target depends on `deps`, which installs missing Debian packages.
# Library flags come from pkg-config and are expanded when recipes run, that
# is after `deps` has made sure the libraries are there.

SAN ?=
ifeq ($(SAN),1)
BUILD ?= build-asan
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
HARDEN =
else
BUILD ?= build
SANFLAGS =
HARDEN = -D_FORTIFY_SOURCE=2
endif

CC ?= cc
# V=1 shows every command.
ifneq ($(V),1)
Q = @
MSG = @printf '  %-6s %s\n'
else
Q =
MSG = @true
endif
PKGS = libzmq libprotobuf-c lmdb openssl json-c inih libsystemd
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))
CMOCKA_LIBS = $(shell pkg-config --libs cmocka)

WARN = -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes \
       -Wmissing-prototypes -Wno-missing-field-initializers
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) -fstack-protector-strong \
	-fPIE $(SANFLAGS) $(CFLAGS) -Iinclude -I$(BUILD)/gen $(PKG_CFLAGS)
# Generated code is compiled with the same flags minus the prototype warnings
# protoc-c output does not satisfy.
GEN_CFLAGS = $(filter-out -Wmissing-prototypes -Wstrict-prototypes,$(ALL_CFLAGS))
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(SANFLAGS) $(LDFLAGS)

GEN_C = $(BUILD)/gen/ppx.pb-c.c
GEN_H = $(BUILD)/gen/ppx.pb-c.h
LIB_SRC = $(sort $(wildcard lib/*.c))
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/ppx.pb-c.o
LIBPPX = $(BUILD)/libppx.a
DAEMON_SRC = $(sort $(wildcard daemon/*.c))
# Everything of the daemon but main() is also linked into the unit tests.
DAEMON_LIB = $(BUILD)/libppxd.a
DAEMON_LIB_OBJ = $(filter-out $(BUILD)/obj/daemon/main.o,$(DAEMON_SRC:%.c=$(BUILD)/obj/%.o))
CLIENT_SRC = $(sort $(wildcard client/*.c))
UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY = $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/tests/replay_%)
BENCH_SRC = $(sort $(wildcard tests/bench/bench_*.c))
BENCH_BIN = $(BENCH_SRC:tests/bench/%.c=$(BUILD)/tests/%)
PROGRAMS = $(if $(wildcard daemon/main.c),$(BUILD)/ppxd) $(if $(CLIENT_SRC),$(BUILD)/ppx)
# The database sinks for durable hooks (tools/sink, docs/SINKS.md).
SINKS = $(BUILD)/ppx-sink-sqlite $(BUILD)/ppx-sink-pg

DEPS_STAMP = $(BUILD)/.deps-installed

.PHONY: all deps test bench demo pki fuzz fuzz-seeds clean install uninstall deb
.DEFAULT_GOAL := all

all: $(LIBPPX) $(PROGRAMS) $(SINKS)

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/install-deps
	@mkdir -p $(@D)
	./scripts/install-deps
	@touch $@

$(GEN_C) $(GEN_H): proto/ppx.proto | $(DEPS_STAMP)
	@mkdir -p $(BUILD)/gen
	protoc-c --proto_path=proto --c_out=$(BUILD)/gen proto/ppx.proto

$(BUILD)/obj/gen/ppx.pb-c.o: $(GEN_C) $(GEN_H)
	@mkdir -p $(@D)
	$(MSG) CC $<
	$(Q)$(CC) $(GEN_CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: %.c $(GEN_H) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(MSG) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBPPX): $(LIB_OBJ)
	$(AR) rcs $@ $^

$(DAEMON_LIB): $(DAEMON_LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/ppxd: $(BUILD)/obj/daemon/main.o $(DAEMON_LIB) $(LIBPPX)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Only `ppx metrics --listen` speaks HTTP (client/metrics_http.c): the
# client links libmicrohttpd, the daemon never does.
$(BUILD)/ppx: $(CLIENT_SRC:%.c=$(BUILD)/obj/%.o) $(LIBPPX)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) \
		$(shell pkg-config --libs libmicrohttpd)
$(BUILD)/obj/client/metrics_http.o: ALL_CFLAGS += \
	$(shell pkg-config --cflags libmicrohttpd)

# The PKCS#11 signer (lib/pkcs11.c) takes its header from p11-kit and
# loads the module with dlopen, so it links nothing more.
$(BUILD)/obj/lib/pkcs11.o: ALL_CFLAGS += $(shell pkg-config --cflags p11-kit-1)

# The sinks: two programs sharing sink_common.c, sink_subject.c and
# sink_family.c, each with its schema built in from its .sql file.
$(BUILD)/obj/tools/sink/%.o: ALL_CFLAGS += $(shell pkg-config --cflags sqlite3 libpq)
$(BUILD)/gen/sink_schema_sqlite.h: tools/sink/schema.sql tools/sink/embed-sql
	@mkdir -p $(@D)
	tools/sink/embed-sql sink_schema $< >$@.tmp && mv $@.tmp $@
$(BUILD)/gen/sink_schema_pg.h: tools/sink/schema-pg.sql tools/sink/embed-sql
	@mkdir -p $(@D)
	tools/sink/embed-sql sink_schema $< >$@.tmp && mv $@.tmp $@
$(BUILD)/obj/tools/sink/sink_sqlite.o: $(BUILD)/gen/sink_schema_sqlite.h
$(BUILD)/obj/tools/sink/sink_pg.o: $(BUILD)/gen/sink_schema_pg.h

SINK_OBJ = $(patsubst %,$(BUILD)/obj/tools/sink/sink_%.o,common subject family stream)
$(BUILD)/ppx-sink-sqlite: $(BUILD)/obj/tools/sink/sink_sqlite.o $(SINK_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(shell pkg-config --libs json-c sqlite3)

$(BUILD)/ppx-sink-pg: $(BUILD)/obj/tools/sink/sink_pg.o $(SINK_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(shell pkg-config --libs json-c libpq)

# Unit tests: one cmocka program per module.  Shared helpers in tests/unit/
# files not named test_* are linked into every test.
# The helpers that build a daemon on an in-memory transport need libppxd:
# they go into the unit tests only, not into the tools and benchmarks.
DAEMON_HELPERS = tests/unit/daemon_fixture.c tests/unit/transport_mem.c
UNIT_HELPERS = $(filter-out $(UNIT_SRC) $(DAEMON_HELPERS),$(sort $(wildcard tests/unit/*.c)))
$(BUILD)/tests/test_%: $(BUILD)/obj/tests/unit/test_%.o \
		$(UNIT_HELPERS:%.c=$(BUILD)/obj/%.o) \
		$(DAEMON_HELPERS:%.c=$(BUILD)/obj/%.o) $(DAEMON_LIB) $(LIBPPX)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

# test_keywipe searches every block ppx frees for key material: its free()
# and realloc() calls, in libppx.a and libppxd.a too, go through the test's
# __wrap_free and __wrap_realloc.
$(BUILD)/tests/test_keywipe: ALL_LDFLAGS += -Wl,--wrap=free,--wrap=realloc

# The client's helpers, tested alone: the one mapping to exit statuses,
# and the codes of the control socket's side.
$(BUILD)/tests/test_client_exit: $(BUILD)/obj/client/exit.o
$(BUILD)/tests/test_client_ctl: $(BUILD)/obj/client/ctl.o \
		$(BUILD)/obj/client/exit.o
# The metrics' exposition, over statuses built by the test.
$(BUILD)/tests/test_metrics_render: $(BUILD)/obj/client/metrics_render.o
# The board report's measures, over a log built by the test.
$(BUILD)/tests/test_report_measures: $(BUILD)/obj/client/report_measures.o \
		$(BUILD)/obj/client/report_rows.o \
		$(BUILD)/obj/client/deadlines.o $(BUILD)/obj/client/deadlines_join.o \
		$(BUILD)/obj/client/deadlines_emergency.o

# Fuzz targets rebuilt with a small main() that replays a corpus, so that the
# corpora run as regression tests with the ordinary compiler.
$(BUILD)/tests/replay_%: $(BUILD)/obj/tests/fuzz/%.o \
		$(BUILD)/obj/tests/fuzz/replay_main.o $(DAEMON_LIB) $(LIBPPX)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/bench_%: $(BUILD)/obj/tests/bench/bench_%.o \
		$(UNIT_HELPERS:%.c=$(BUILD)/obj/%.o) $(LIBPPX)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

# bench_signer forks the daemon's signer process (daemon/signer.c).
$(BUILD)/tests/bench_signer: $(BUILD)/obj/tests/bench/bench_signer.o \
		$(UNIT_HELPERS:%.c=$(BUILD)/obj/%.o) $(DAEMON_LIB) $(LIBPPX)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

# A partner that misbehaves on purpose, for tests/integration/refusals.sh:
# the core in inject.c, its hostile modes in inject_*.c.
INJECT_OBJ = $(patsubst %,$(BUILD)/obj/tests/tools/inject_%.o,text ids budget person restore batch)
$(BUILD)/tests/inject: $(BUILD)/obj/tests/tools/inject.o $(INJECT_OBJ) \
		$(UNIT_HELPERS:%.c=$(BUILD)/obj/%.o) $(LIBPPX)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

# Every byte of an evidence bundle changed (tests/integration/evidence.sh).
$(BUILD)/tests/evidence-flip: $(BUILD)/obj/tests/tools/evidence_flip.o $(LIBPPX)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Event-stream subscriber used by tests/integration/hooks.sh.
$(BUILD)/tests/subscribe: $(BUILD)/obj/tests/tools/subscribe.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# The demo PKI (police.gwent, probation.gwent, prison.cardiff) is made on
# demand into $(BUILD)/pki; no private key is ever committed.
pki: $(BUILD)/pki/ca/ca.crt
$(BUILD)/pki/ca/ca.crt: certs/ppx-pki | $(DEPS_STAMP)
	certs/ppx-pki demo $(BUILD)/pki

# The protobuf classes of tests/tools/pyppx, the independent checker of
# evidence written from the documents (PPX_PY points the tests at them).
$(BUILD)/py/ppx_pb2.py: proto/ppx.proto | $(DEPS_STAMP)
	@mkdir -p $(@D)
	protoc --proto_path=proto --python_out=$(@D) proto/ppx.proto

test: all $(UNIT_BIN) $(FUZZ_REPLAY) $(BUILD)/tests/subscribe $(BUILD)/tests/inject $(BUILD)/tests/evidence-flip pki $(BUILD)/py/ppx_pb2.py
ifeq ($(VALGRIND),1)
	@command -v valgrind >/dev/null || \
		{ echo "make test VALGRIND=1 needs valgrind: apt-get install valgrind" >&2; exit 1; }
endif
	BUILD=$(BUILD) VALGRIND=$(VALGRIND) tests/run-tests

bench: all $(BENCH_BIN) pki
	BUILD=$(BUILD) tests/bench/run-bench

demo: all pki
	BUILD=$(BUILD) scripts/demo

$(BUILD)/tests/demo_%: $(BUILD)/obj/tests/demo/demo_%.o \
		$(UNIT_HELPERS:%.c=$(BUILD)/obj/%.o) $(LIBPPX)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

# The seed corpus of fuzz_envelope is committed; this regenerates it.
fuzz-seeds: $(BUILD)/tests/gen_seeds pki
	$(BUILD)/tests/gen_seeds tests/fuzz/corpus/envelope

$(BUILD)/tests/gen_seeds: $(BUILD)/obj/tests/fuzz/gen_seeds.o \
		$(UNIT_HELPERS:%.c=$(BUILD)/obj/%.o) $(LIBPPX)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

# libFuzzer builds need clang; they live in their own build directory.
FUZZ_SECONDS ?= 60
fuzz: | $(DEPS_STAMP)
	BUILD=build-fuzz FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run-fuzzers

# ---- install ------------------------------------------------------------------
# The FHS layout of docs/OPERATIONS.md section 1.  With PREFIX=/usr (the
# Debian package): ppxd in /usr/sbin, ppx, ppx-pki and the sinks in
# /usr/bin, the units in /lib/systemd/system, the configuration in /etc/ppx,
# the logs under /var/lib/ppx.  /run/ppx is made at boot (tmpfiles.d), not
# installed.  The directories' owner (the ppx user) is set by the package or
# by the commands in OPERATIONS.md, not here: make install needs no root.
PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/ppx
SYSCONFDIR ?= /etc
LOCALSTATEDIR ?= /var
# /usr/lib/systemd/... under /usr/local; /lib/systemd/system for /usr, as
# Debian 12 has it.
UNITDIR ?= $(patsubst /usr,,$(PREFIX))/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
INSTALL ?= install

UNITS = $(sort $(wildcard dist/systemd/*.service dist/systemd/*.timer))
MAN1 = $(sort $(wildcard docs/man/*.1))
MAN8 = $(sort $(wildcard docs/man/*.8))
EXAMPLES = dist/examples/police.gwent.conf docs/examples/policy.conf
BIN_PROGRAMS = ppx ppx-sink-sqlite ppx-sink-pg

install: all
	$(INSTALL) -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(DOCDIR)/examples
	$(INSTALL) -d -m 0750 $(DESTDIR)$(SYSCONFDIR)/ppx \
		$(DESTDIR)$(LOCALSTATEDIR)/lib/ppx
	$(INSTALL) -m 0755 $(BUILD)/ppxd $(DESTDIR)$(SBINDIR)/ppxd
	$(INSTALL) -m 0755 $(BIN_PROGRAMS:%=$(BUILD)/%) certs/ppx-pki \
		$(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 $(UNITS) $(DESTDIR)$(UNITDIR)/
	$(INSTALL) -m 0644 dist/sysusers.d/ppx.conf $(DESTDIR)$(SYSUSERSDIR)/ppx.conf
	$(INSTALL) -m 0644 dist/tmpfiles.d/ppx.conf $(DESTDIR)$(TMPFILESDIR)/ppx.conf
	$(INSTALL) -m 0644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/

# Removes the files make install put there and the directories it made if
# they are empty: an agency's configuration and log are never removed.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/ppxd \
		$(BIN_PROGRAMS:%=$(DESTDIR)$(BINDIR)/%) $(DESTDIR)$(BINDIR)/ppx-pki \
		$(MAN1:docs/man/%=$(DESTDIR)$(MANDIR)/man1/%) \
		$(MAN8:docs/man/%=$(DESTDIR)$(MANDIR)/man8/%) \
		$(UNITS:dist/systemd/%=$(DESTDIR)$(UNITDIR)/%) \
		$(DESTDIR)$(SYSUSERSDIR)/ppx.conf $(DESTDIR)$(TMPFILESDIR)/ppx.conf \
		$(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(notdir $(EXAMPLES)))
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(SYSCONFDIR)/ppx $(DESTDIR)$(LOCALSTATEDIR)/lib/ppx \
		2>/dev/null

# The Debian package (debian/rules builds with this Makefile, in
# build-deb): ppx_VERSION_ARCH.deb, with its .buildinfo and .changes, is
# moved from the parent directory, where dpkg-buildpackage writes it, into
# $(BUILD)/deb.
deb: | $(DEPS_STAMP)
	dpkg-buildpackage -us -uc -b
	@mkdir -p $(BUILD)/deb
	v=$$(dpkg-parsechangelog -SVersion) && \
		a=$$(dpkg-architecture -qDEB_HOST_ARCH) && \
		mv ../ppx_$${v}_$${a}.deb ../ppx_$${v}_$${a}.buildinfo \
		   ../ppx_$${v}_$${a}.changes $(BUILD)/deb/ && \
		mv ../ppx-dbgsym_$${v}_$${a}.deb $(BUILD)/deb/ && \
		echo "built $(BUILD)/deb/ppx_$${v}_$${a}.deb"

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
