# slawatch — see README.md. `make run` runs the daemon on the embedded default config (state under
# ./.slawatch); `make test` runs every test against a real journald of its own (a namespace).
SWIFT ?= swift
PREFIX ?= /usr
SYSCONFDIR ?= /etc
DESTDIR ?=
# release for packages; `make install CONFIGURATION=debug` reuses the test build.
CONFIGURATION ?= release
# Install the Type=notify-reload drop-in: auto (when the local systemd is >= 253), yes, no.
NOTIFY_RELOAD ?= auto
BIN := .build/debug/slawatch

.PHONY: run test build deps journald format lint clean install

deps:
	@scripts/ensure-deps.sh

journald:
	@scripts/start-journald.sh

build: deps
	$(SWIFT) build

run: build
	$(BIN) daemon

# The tests write to a journal of their own (scripts/test-journal.sh: a journald namespace,
# `journalctl --namespace slawatch-test`), never to the machine's.
test: deps
	$(SWIFT) build --build-tests
	scripts/test-journal.sh $(SWIFT) test --skip-build

format:
	$(SWIFT) format format --in-place --recursive --parallel Sources Tests TestSupport Package.swift

lint:
	$(SWIFT) format lint --strict --recursive --parallel Sources Tests TestSupport Package.swift

clean:
	rm -rf .build .slawatch

# Puts the binary (stripped; its debug info under lib/debug/.build-id, found by gdb and
# debuginfod), units, sysusers/tmpfiles files, catalog, default config, man page (generated from
# the commands' help by swift-argument-parser's generate-manual plugin), bash/zsh/fish
# completions and every document the man page points to in their usual places under $(DESTDIR).
# Runs nothing that needs a running systemd; a package's postinst runs systemd-sysusers,
# systemd-tmpfiles --create, journalctl --update-catalog and systemctl daemon-reload.
install: deps
	$(SWIFT) build -c $(CONFIGURATION)
	bin="$$($(SWIFT) build -c $(CONFIGURATION) --show-bin-path)/slawatch"; \
	dest="$(DESTDIR)$(PREFIX)/bin/slawatch"; \
	install -Dm755 "$$bin" "$$dest"; \
	id=$$(readelf -n "$$dest" | sed -n 's/.*Build ID: \([0-9a-f]*\).*/\1/p'); \
	debug="$(DESTDIR)$(PREFIX)/lib/debug/.build-id/$$(echo $$id | cut -c1-2)/$$(echo $$id | cut -c3-).debug"; \
	install -d "$$(dirname "$$debug")"; \
	objcopy --only-keep-debug --compress-debug-sections "$$dest" "$$debug"; chmod 644 "$$debug"; \
	strip --remove-section=.comment --remove-section=.note --strip-all "$$dest"; \
	objcopy --add-gnu-debuglink="$$debug" "$$dest"
	sed "s#/usr/bin/slawatch#$(PREFIX)/bin/slawatch#; s#/etc/slawatch#$(SYSCONFDIR)/slawatch#" systemd/slawatch.service \
		| install -Dm644 /dev/stdin "$(DESTDIR)$(PREFIX)/lib/systemd/system/slawatch.service"
	sed "s#/usr/bin/slawatch#$(PREFIX)/bin/slawatch#; s#/etc/slawatch#$(SYSCONFDIR)/slawatch#" systemd/slawatch-forward.service \
		| install -Dm644 /dev/stdin "$(DESTDIR)$(PREFIX)/lib/systemd/system/slawatch-forward.service"
	for s in slawatch.socket slawatch-dgram.socket slawatch-control.socket slawatch-metrics.socket; do \
		install -Dm644 "systemd/$$s" "$(DESTDIR)$(PREFIX)/lib/systemd/system/$$s"; done
	v=$$(systemctl --version 2>/dev/null | awk 'NR==1 { print $$2 }'); \
	if [ "$(NOTIFY_RELOAD)" = yes ] || { [ "$(NOTIFY_RELOAD)" = auto ] && [ "$${v:-0}" -ge 253 ]; }; then \
		install -Dm644 systemd/slawatch.service.d/notify-reload.conf \
			"$(DESTDIR)$(PREFIX)/lib/systemd/system/slawatch.service.d/notify-reload.conf"; fi
	install -Dm644 systemd/sysusers.d/slawatch.conf "$(DESTDIR)$(PREFIX)/lib/sysusers.d/slawatch.conf"
	install -Dm644 systemd/tmpfiles.d/slawatch.conf "$(DESTDIR)$(PREFIX)/lib/tmpfiles.d/slawatch.conf"
	install -Dm644 systemd/slawatch.catalog "$(DESTDIR)$(PREFIX)/lib/systemd/catalog/slawatch.catalog"
	install -Dm644 config/slawatch.yaml "$(DESTDIR)$(SYSCONFDIR)/slawatch/slawatch.yaml"
	install -d "$(DESTDIR)$(SYSCONFDIR)/slawatch/objectives.d"
	for f in config/objectives.d/*.yaml; do \
		install -Dm644 "$$f" "$(DESTDIR)$(PREFIX)/share/doc/slawatch/examples/objectives.d/$$(basename $$f)"; done
	scripts/manpage.sh $(CONFIGURATION) | install -Dm644 /dev/stdin "$(DESTDIR)$(PREFIX)/share/man/man8/slawatch.8"
	for f in README.md docs/*.md; do \
		install -Dm644 "$$f" "$(DESTDIR)$(PREFIX)/share/doc/slawatch/$$(basename $$f)"; done
	bin="$$($(SWIFT) build -c $(CONFIGURATION) --show-bin-path)/slawatch"; \
	"$$bin" --generate-completion-script bash | install -Dm644 /dev/stdin "$(DESTDIR)$(PREFIX)/share/bash-completion/completions/slawatch"; \
	"$$bin" --generate-completion-script zsh | install -Dm644 /dev/stdin "$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_slawatch"; \
	"$$bin" --generate-completion-script fish | install -Dm644 /dev/stdin "$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/slawatch.fish"
