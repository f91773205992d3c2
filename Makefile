# snakescope: plain GNU make (see README "Building" for why not meson).
#   make                       build build/snakescope
#   make SAN=address,undefined build with ASan+UBSan into build-san/
#   make unit                  build and run the C unit tests
#   make install PREFIX=/usr/local

PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

CC       ?= cc
PKGS     := libelf
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lelf)

ifdef SAN
BUILD    ?= build-san
SANFLAGS := -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD    ?= build
SANFLAGS :=
endif

CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-missing-field-initializers
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -DSS_VERSION='"$(VERSION)"' -Isrc $(WARN) \
              $(PKG_CFLAGS) $(SANFLAGS) $(CFLAGS) -MMD -MP
ALL_LDFLAGS := $(SANFLAGS) $(LDFLAGS)

SRCS     := $(sort $(wildcard src/*.c src/*/*.c))
OBJS     := $(SRCS:%.c=$(BUILD)/%.o)
LIB_OBJS := $(filter-out $(BUILD)/src/main.o,$(OBJS))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:%.c=$(BUILD)/%)

.PHONY: all unit test install clean
all: $(BUILD)/snakescope

$(BUILD)/snakescope: $(OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $(OBJS) $(PKG_LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB_OBJS) $(PKG_LIBS) -lcmocka

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# The whole suite: C unit tests, then pytest against the real binary.
test: all unit
	SNAKESCOPE=$(abspath $(BUILD)/snakescope) /usr/bin/python3 -m pytest -n 2 tests/py

install: all
	install -Dm755 $(BUILD)/snakescope $(DESTDIR)$(BINDIR)/snakescope
	install -Dm644 man/snakescope.1 $(DESTDIR)$(MANDIR)/man1/snakescope.1
	install -Dm644 completion/snakescope.bash $(DESTDIR)$(BASHCOMPDIR)/snakescope

clean:
	rm -rf build build-san

-include $(OBJS:.o=.d)
