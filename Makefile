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
PKGS     := libelf libdw libprotobuf-c zlib libzstd liblz4 liblzma ncursesw libedit
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lelf -ldw -lprotobuf-c -lz -lzstd -llz4 -llzma -lncursesw -ltinfo -ledit)

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

.PHONY: all unit test install clean fuzz proto
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

# libFuzzer target over the core reader (tests/fuzz/fuzz_core.c), built with
# clang into build-fuzz/; run it with
#   build-fuzz/fuzz_core -max_total_time=60 tests/fuzz/corpus_core
FUZZ_CC    ?= clang
FUZZ_SRCS  := src/target/core.c src/target/corefiles.c src/target/mem_core.c src/target/regs.c \
              src/target/procfs.c src/elf/elffile.c src/elf/buildid.c \
              src/target/perm.c src/util/err.c src/util/xalloc.c
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -Isrc $(WARN) $(PKG_CFLAGS) -g -O1 \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

fuzz: build-fuzz/fuzz_core

build-fuzz/fuzz_core: tests/fuzz/fuzz_core.c $(FUZZ_SRCS) $(wildcard src/target/*.h src/elf/*.h src/util/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_core.c $(FUZZ_SRCS) $(PKG_LIBS)

clean:
	rm -rf build build-san build-fuzz

-include $(OBJS:.o=.d)

# Regenerate the committed pprof message code from src/out/profile.proto
# (protoc-c from Debian's protobuf-c-compiler).
proto:
	cd src/out && protoc-c --c_out=. profile.proto
