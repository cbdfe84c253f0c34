# smtpd - a socket-activated SMTP receiver that stores mail in SQLite.
#
#   make            build ./smtpd and ./mailbox
#   make run        install build dependencies (as root), build, serve on
#                   127.0.0.1:2525 into ./mail.db
#   make check      install test dependencies (as root), build, run every test
#   make install    PREFIX=/usr/local DESTDIR= ...

VERSION    = 0.1.0
PREFIX    ?= /usr/local
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
UNITDIR   ?= $(PREFIX)/lib/systemd/system
DOCDIR    ?= $(PREFIX)/share/doc/smtpd
STATEDIR  ?= /var/lib/smtpd
DESTDIR   ?=

CC        ?= cc
CFLAGS    ?= -O2 -g
WARNINGS   = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
             -Wformat=2 -Wvla
PKGS       = sqlite3
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE -DSMTPD_VERSION='"$(VERSION)"' \
             $(WARNINGS) $(CFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -MMD -MP
# SQLite is linked in statically (Debian's libsqlite3-dev ships the
# archive): every connection execs smtpd, and resolving a shared
# library's symbols at each start costs more than the whole session's
# own work (bench/README.md).  SQLITE_STATIC=no links the shared one.
SQLITE_STATIC ?= yes
SQLITE_LIBDIR  = $(shell pkg-config --variable=libdir sqlite3 2>/dev/null || echo /usr/lib)
# smtpd itself is linked fully static (glibc too), as a static PIE so
# that it keeps address-space randomisation: it uses no NSS and loads
# nothing at run time, and a static exec skips the dynamic loader, which
# was most of what an exec of smtpd cost.  callgrind: --version 83
# thousand instructions against 208 thousand dynamic, a one-message
# session 0.79 million against 0.96 (bench/README.md).  STATIC=no links
# it dynamically.  SQLite's load_extension() refers to dlopen(), which
# a static glibc can only offer with its shared libraries at run time;
# smtpd never loads an extension, so the static link wraps those calls
# to nodl.c, which refuses them (and the linker has nothing to warn of).  The
# valgrind phase of make check runs smtpd-nosandbox, which is linked
# dynamically: memcheck cannot see malloc() inside a static program.
STATIC        ?= yes
ifeq ($(STATIC),yes)
STATIC_LDFLAGS = -static-pie -Wl,--wrap=dlopen,--wrap=dlsym,--wrap=dlclose,--wrap=dlerror
STATIC_OBJS    = nodl.o
endif
ifeq ($(SQLITE_STATIC),yes)
LIBS       = $(SQLITE_LIBDIR)/libsqlite3.a -lm
else
LIBS       = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lsqlite3)
endif

# mailtls, the TLS helper: the only program that links GnuTLS (shared,
# so that Debian's security updates apply) or reads the key.
TLS_PKGS     = gnutls
TLS_CFLAGS   = $(shell pkg-config --cflags $(TLS_PKGS) 2>/dev/null)
TLS_LIBS     = $(shell pkg-config --libs $(TLS_PKGS) 2>/dev/null || echo -lgnutls)
MAILTLS_SRCS = mailtls.c tlsserver.c tlsinfo.c log.c cli.c parse.c
MAILTLS_OBJS = $(MAILTLS_SRCS:.c=.o)

# The store and what it needs: every program that opens the database.
STORE = store.c store_perf.c trace.c parse.c spool.c

# Everything but main(): what the fuzzer drives.
CORE = session.c transaction.c esmtp.c $(STORE) io.c body.c reply.c log.c tlsinfo.c
SRCS = smtpd.c cli.c conn.c checkpointer.c sandbox.c starttls.c $(CORE)
OBJS = $(SRCS:.c=.o)

# The administrator's tool: the same store, its own queries.
MAILBOX_SRCS = mailbox.c cli.c mailbox_cmd.c admin.c mailfmt.c newpass.c $(STORE) log.c
MAILBOX_OBJS = $(MAILBOX_SRCS:.c=.o)
MAILBOX_LIBS = -lcrypt

# The POP3 server: its session (what the POP3 fuzzer drives), then main().
POP3_CORE = pop3.c mailstore.c stuff.c sasl.c password.c $(STORE) io.c log.c tlsinfo.c
POP3_SRCS = pop3d.c cli.c conn.c sandbox.c starttls.c $(POP3_CORE)
POP3_OBJS = $(POP3_SRCS:.c=.o)
POP3_LIBS = -lcrypt

# The sanitizer build that 'make check' runs the suite against, and the
# libFuzzer harness.  Both use clang, in their own directories.
SAN        = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SECONDS ?= 60
FUZZ_FLAGS ?=

.PHONY: all deps run check test warnings fuzz bench bench-units install uninstall clean

all: smtpd mailbox pop3d mailtls

smtpd: $(OBJS) $(STATIC_OBJS)
	$(CC) $(LDFLAGS) $(STATIC_LDFLAGS) -o $@ $(OBJS) $(STATIC_OBJS) $(LIBS)

mailbox: $(MAILBOX_OBJS)
	$(CC) $(LDFLAGS) -o $@ $(MAILBOX_OBJS) $(LIBS) $(MAILBOX_LIBS)

pop3d: $(POP3_OBJS)
	$(CC) $(LDFLAGS) -o $@ $(POP3_OBJS) $(LIBS) $(POP3_LIBS)

mailtls: $(MAILTLS_OBJS)
	$(CC) $(LDFLAGS) -o $@ $(MAILTLS_OBJS) $(TLS_LIBS)

tlsserver.o: tlsserver.c
	$(CC) $(ALL_CFLAGS) $(TLS_CFLAGS) -c -o $@ $<

%.o: %.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Applies smtpd's sandbox and tries what it forbids (tests/sandbox.bats);
# built for the tests only, never installed.
tests/sandbox-probe: tests/sandbox-probe.c sandbox.c sandbox.h
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ tests/sandbox-probe.c sandbox.c

# The sanitizer and valgrind builds are made without the sandbox
# (-DSMTPD_NO_SANDBOX: a build flag, never a runtime option): their
# runtimes map memory past RLIMIT_DATA, ptrace (LeakSanitizer), read
# /proc and make code at run time (valgrind), which the sandbox forbids.
build-asan/%.o: %.c schema.h
	@mkdir -p build-asan
	clang $(ALL_CFLAGS) -DSMTPD_NO_SANDBOX -O1 $(SAN) -c -o $@ $<

smtpd-asan: $(addprefix build-asan/,$(OBJS))
	clang $(LDFLAGS) $(SAN) -o $@ $^ $(LIBS)

pop3d-asan: $(addprefix build-asan/,$(POP3_OBJS))
	clang $(LDFLAGS) $(SAN) -o $@ $^ $(LIBS) $(POP3_LIBS)

mailbox-asan: $(addprefix build-asan/,$(MAILBOX_OBJS))
	clang $(LDFLAGS) $(SAN) -o $@ $^ $(LIBS) $(MAILBOX_LIBS)

build-asan/tlsserver.o: tlsserver.c
	@mkdir -p build-asan
	clang $(ALL_CFLAGS) $(TLS_CFLAGS) -O1 $(SAN) -c -o $@ $<

mailtls-asan: $(addprefix build-asan/,$(MAILTLS_OBJS))
	clang $(LDFLAGS) $(SAN) -o $@ $^ $(TLS_LIBS)

# The plain build but for sandbox.o, and linked dynamically (memcheck
# replaces malloc() through the dynamic loader): what
# tests/valgrind-smtpd and tests/valgrind-pop3d run.
build-nosandbox/sandbox.o: sandbox.c
	@mkdir -p build-nosandbox
	$(CC) $(ALL_CFLAGS) -DSMTPD_NO_SANDBOX -c -o $@ $<

smtpd-nosandbox: $(filter-out sandbox.o,$(OBJS)) build-nosandbox/sandbox.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

pop3d-nosandbox: $(filter-out sandbox.o,$(POP3_OBJS)) build-nosandbox/sandbox.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(POP3_LIBS)

build-fuzz/%.o: %.c schema.h
	@mkdir -p build-fuzz
	clang $(ALL_CFLAGS) -O1 -fsanitize=fuzzer-no-link $(SAN) -c -o $@ $<

build-fuzz/fuzz_session.o: tests/fuzz/fuzz_session.c
	@mkdir -p build-fuzz
	clang $(ALL_CFLAGS) -O1 -fsanitize=fuzzer-no-link $(SAN) -c -o $@ $<

fuzz-session: build-fuzz/fuzz_session.o $(addprefix build-fuzz/,$(CORE:.c=.o))
	clang $(LDFLAGS) -fsanitize=fuzzer $(SAN) -o $@ $^ $(LIBS)

build-fuzz/fuzz_pop3.o: tests/fuzz/fuzz_pop3.c
	@mkdir -p build-fuzz
	clang $(ALL_CFLAGS) -O1 -fsanitize=fuzzer-no-link $(SAN) -c -o $@ $<

# The POP3 session, with the mailbox tool's functions for its fixture.
fuzz-pop3: build-fuzz/fuzz_pop3.o $(addprefix build-fuzz/,$(POP3_CORE:.c=.o) admin.o)
	clang $(LDFLAGS) -fsanitize=fuzzer $(SAN) -o $@ $^ $(LIBS) $(POP3_LIBS)

build-fuzz/fuzz_tlsinfo.o: tests/fuzz/fuzz_tlsinfo.c
	@mkdir -p build-fuzz
	clang $(ALL_CFLAGS) -O1 -fsanitize=fuzzer-no-link $(SAN) -c -o $@ $<

# The line mailtls sends smtpd: make fuzz-tlsinfo && ./fuzz-tlsinfo -max_total_time=60
fuzz-tlsinfo: build-fuzz/fuzz_tlsinfo.o build-fuzz/tlsinfo.o
	clang $(LDFLAGS) -fsanitize=fuzzer $(SAN) -o $@ $^

# make fuzz FUZZ_SECONDS=N: grow tests/fuzz/corpus from the seeds that
# the bats scripts make; a crash is left as tests/fuzz/crash-*.
fuzz: fuzz-session
	tests/fuzz/seeds
	./fuzz-session -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
		-artifact_prefix=tests/fuzz/ -dict=tests/fuzz/smtp.dict -print_final_stats=1 $(FUZZ_FLAGS) \
		tests/fuzz/corpus tests/fuzz/seeds.d

# The schema is compiled in, so an installed smtpd needs no data files.
schema.h: schema.sql
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' schema.sql > $@

store.o: schema.h

# Both compilers, every warning an error; the build itself stays lenient
# so a newer compiler's new warning does not break an install.
warnings: schema.h
	for cc in gcc clang; do \
		$$cc -std=c17 -D_GNU_SOURCE $(WARNINGS) -Werror -O2 -fsyntax-only \
			$(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(SRCS) nodl.c tests/sandbox-probe.c || exit 1; \
		$$cc -std=c17 -D_GNU_SOURCE -DSMTPD_NO_SANDBOX $(WARNINGS) -Werror -O2 -fsyntax-only \
			sandbox.c || exit 1; \
		$$cc -std=c17 -D_GNU_SOURCE $(WARNINGS) -Werror -O2 -fsyntax-only \
			$(TLS_CFLAGS) $(MAILTLS_SRCS) || exit 1; \
		$$cc -std=c17 -D_GNU_SOURCE $(WARNINGS) -Werror -O2 -fsyntax-only \
			$(shell pkg-config --cflags $(PKGS) 2>/dev/null) \
			$(MAILBOX_SRCS) $(POP3_SRCS) || exit 1; \
	done

deps:
	@scripts/deps check

run:
	@scripts/deps run
	@$(MAKE) --no-print-directory smtpd mailbox pop3d mailtls
	@scripts/run

check:
	@scripts/deps check
	@$(MAKE) --no-print-directory smtpd mailbox pop3d mailtls tests/sandbox-probe
	@scripts/check

test: check

# Throughput and memory against Postfix's smtp-sink and receive path,
# then bench/tls (STARTTLS against Postfix with TLS) and bench/pop3
# (pop3d against a private Dovecot), both run by bench/run; prints the
# tables (bench/README.md has the last ones).
bench:
	@scripts/deps bench
	@$(MAKE) --no-print-directory -s smtpd mailtls pop3d
	@bench/run

# What each group of smtpd@.service options costs per connection under a
# real systemd (bench/README.md).
bench-units:
	@scripts/deps bench
	@$(MAKE) --no-print-directory -s smtpd
	@BENCH_UNITS=1 bench/run

# smtpd-hardened.conf goes in DOCDIR as an example, not active
# (SECURITY.md says when and how to use it).  setpriv, not runuser or su:
# they need a PAM configuration, which a minimal system or container may
# lack.  smtpd-tls.conf, the STARTTLS drop-in, is an example there too.
install: smtpd pop3d mailtls mailbox
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(DOCDIR)
	install -m 755 smtpd $(DESTDIR)$(SBINDIR)/smtpd
	install -m 755 pop3d $(DESTDIR)$(SBINDIR)/pop3d
	install -m 755 mailbox $(DESTDIR)$(SBINDIR)/mailbox
	install -m 644 mailbox.8 $(DESTDIR)$(MANDIR)/man8/mailbox.8
	install -m 644 mailbox-purge.timer $(DESTDIR)$(UNITDIR)/mailbox-purge.timer
	install -m 644 pop3d.8 $(DESTDIR)$(MANDIR)/man8/pop3d.8
	install -m 644 pop3.socket $(DESTDIR)$(UNITDIR)/pop3.socket
	install -m 644 pop3s.socket $(DESTDIR)$(UNITDIR)/pop3s.socket
	install -d $(DESTDIR)$(UNITDIR)/pop3@.service.d
	sed 's|/usr/local/sbin/|$(SBINDIR)/|' pop3-tls.conf \
		> $(DESTDIR)$(UNITDIR)/pop3@.service.d/tls.conf.example
	install -m 755 mailtls $(DESTDIR)$(SBINDIR)/mailtls
	install -m 644 smtpd.8 $(DESTDIR)$(MANDIR)/man8/smtpd.8
	install -m 644 mailtls.8 $(DESTDIR)$(MANDIR)/man8/mailtls.8
	install -m 644 smtpd.socket $(DESTDIR)$(UNITDIR)/smtpd.socket
	install -m 644 smtpd-hardened.conf $(DESTDIR)$(DOCDIR)/smtpd-hardened.conf
	sed 's|/usr/local/sbin/smtpd|$(SBINDIR)/smtpd|' smtpd-tls.conf \
		> $(DESTDIR)$(DOCDIR)/smtpd-tls.conf
	for u in smtpd@.service smtpd-checkpointer.service pop3@.service pop3s@.service \
		mailbox-purge.service; do \
		sed 's|/usr/local/sbin/|$(SBINDIR)/|' $$u > $(DESTDIR)$(UNITDIR)/$$u && \
		chmod 644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
		getent passwd smtpd >/dev/null || \
			useradd --system --user-group --home-dir $(STATEDIR) \
				--shell /usr/sbin/nologin smtpd || exit 1; \
		install -d -m 750 -o smtpd -g smtpd $(STATEDIR) || exit 1; \
		setpriv --reuid=smtpd --regid=smtpd --init-groups -- \
			$(SBINDIR)/smtpd --init-db --db $(STATEDIR)/mail.db || exit 1; \
		if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
		echo "Now: systemctl enable --now smtpd.socket mailbox-purge.timer (and pop3.socket)"; \
	fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/smtpd $(DESTDIR)$(MANDIR)/man8/smtpd.8 \
		$(DESTDIR)$(SBINDIR)/mailtls $(DESTDIR)$(MANDIR)/man8/mailtls.8 \
		$(DESTDIR)$(UNITDIR)/smtpd.socket $(DESTDIR)$(UNITDIR)/smtpd@.service \
		$(DESTDIR)$(UNITDIR)/smtpd-checkpointer.service \
		$(DESTDIR)$(SBINDIR)/pop3d $(DESTDIR)$(MANDIR)/man8/pop3d.8 \
		$(DESTDIR)$(UNITDIR)/pop3.socket $(DESTDIR)$(UNITDIR)/pop3@.service \
		$(DESTDIR)$(UNITDIR)/pop3s.socket $(DESTDIR)$(UNITDIR)/pop3s@.service \
		$(DESTDIR)$(UNITDIR)/pop3@.service.d/tls.conf.example \
		$(DESTDIR)$(SBINDIR)/mailbox $(DESTDIR)$(MANDIR)/man8/mailbox.8 \
		$(DESTDIR)$(UNITDIR)/mailbox-purge.service $(DESTDIR)$(UNITDIR)/mailbox-purge.timer \
		$(DESTDIR)$(DOCDIR)/smtpd-hardened.conf $(DESTDIR)$(DOCDIR)/smtpd-tls.conf
	-rmdir $(DESTDIR)$(DOCDIR)

clean:
	rm -f smtpd mailtls smtpd-asan mailtls-asan fuzz-tlsinfo smtpd-nosandbox pop3d-nosandbox tests/sandbox-probe \
		tests/sandbox-probe.d fuzz-session mailbox mailbox-asan pop3d pop3d-asan fuzz-pop3 \
		*.o *.d schema.h
	rm -rf build-asan build-fuzz build-nosandbox tests/fuzz/seeds.d tests/fuzz/seeds-pop3.d

-include $(SRCS:.c=.d) $(MAILTLS_SRCS:.c=.d) $(MAILBOX_SRCS:.c=.d) $(POP3_SRCS:.c=.d) \
	$(wildcard build-*/*.d)
