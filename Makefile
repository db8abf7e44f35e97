# kinagg: build and test targets. `make test` installs what it needs on
# Debian 12 (tests/deps.sh) and runs every suite; `make demo` runs the demo.
# Longer runs have their own targets: `make fuzz`, `make size`, `make bench`.

B        := build
GEN      := $(B)/gen
STD      := -std=c99
WARN     := -Wall -Wextra -Wpedantic -Werror
# implicit conversions that may change a value or its sign, which projects
# building with -Wconversion -Werror would stop at (kinagg.h only; with
# clang on the host, and gcc for the Cortex-M4, where long is 32 bits)
WARN_CONV := -Wconversion -Wsign-conversion
# and what game servers often add in C++
WARN_CXX := -Wimplicit-fallthrough -Wcast-qual
SAN      := -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all
WRAP     := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=aligned_alloc,--wrap=posix_memalign
CORE     := kinagg.h
TESTHDR  := tests/check.h tests/records.h
XHDR     := tests/xcheck/corpus.h
CROSS    := aarch64-linux-gnu:aarch64 arm-linux-gnueabihf:arm s390x-linux-gnu:s390x
M4FLAGS  := -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -Os -ffunction-sections -fdata-sections
FUZZ_SECONDS ?= 10
FUZZ_LONG_SECONDS ?= 300
SEED     ?= $(shell date +%s)

.PHONY: test demo deps warnings size fw-stack fw-stack-min fuzz bench sidebyside clean creds-warnings

test: deps
	@SEED=$(SEED) FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/run.sh

deps:
	@bash tests/deps.sh

demo: deps
	@bash examples/demo.sh

clean:
	rm -rf $(B)

$(B) $(GEN) $(B)/m4:
	@mkdir -p $@

# ---- library builds under every compiler and option -------------------------
# Each line compiles the implementation; -O2 lets gcc find more warnings.
# The SHA-256 hardware paths: x86 SHA extensions on x86 hosts, ARMv8 crypto
# with the aarch64 cross compiler.
# The documented switches, alone and as a producer-only firmware sets them
# (KINAGG_NO_CBOR with KINAGG_NO_JSON is refused: no protocol would be left).
# MINIMAL: the producer's own parts left out too (no shard map, no
# credentials source, no error text, one connection), as the smallest
# firmware builds it.
MINIMAL  := -DKINAGG_NO_SHARD_MAP -DKINAGG_NO_CREDENTIALS_SOURCE -DKINAGG_NO_ERROR_TEXT -DKINAGG_PRODUCER_MAX_CONNECTIONS=1
# FIRMWARE: the same but with the shard map, which a firmware with many
# partition keys keeps (records of different keys aggregate together)
FIRMWARE := -DKINAGG_NO_CREDENTIALS_SOURCE -DKINAGG_NO_ERROR_TEXT -DKINAGG_PRODUCER_MAX_CONNECTIONS=1
SWITCHES := -DKINAGG_NO_CBOR -DKINAGG_NO_JSON -DKINAGG_NO_READ -DKINAGG_SIGV4_SIMPLE_PATH \
            -DKINAGG_NO_SHARD_MAP -DKINAGG_NO_CREDENTIALS_SOURCE -DKINAGG_NO_ERROR_TEXT -DKINAGG_SMALL_-DKINAGG_LIBC_MEMORY -DKINAGG_SMALL_-DKINAGG_MEMCMP=memcmp \
            -DKINAGG_NO_CBOR_-DKINAGG_NO_READ_-DKINAGG_SIGV4_SIMPLE_PATH \
            -DKINAGG_NO_JSON_-DKINAGG_NO_READ_-DKINAGG_SIGV4_SIMPLE_PATH_-DKINAGG_SMALL_-DKINAGG_STATIC \
            -DKINAGG_NO_CBOR_-DKINAGG_NO_READ_-DKINAGG_SIGV4_SIMPLE_PATH_$(subst $(eval) ,_,$(MINIMAL)) \
            -DKINAGG_NO_JSON_-DKINAGG_NO_READ_-DKINAGG_SIGV4_SIMPLE_PATH_$(subst $(eval) ,_,$(MINIMAL))_-DKINAGG_STATIC \
            -DKINAGG_NO_CBOR_-DKINAGG_NO_READ_-DKINAGG_SIGV4_SIMPLE_PATH_$(subst $(eval) ,_,$(FIRMWARE))
X86_SHA  := $(if $(filter x86_64 i686,$(shell uname -m)),"$(STD) -msha -msse4.1")
# The compilations run two at a time (xargs -P 2), each to its own object.
# The tools are compiled for 32-bit ARM too (a gateway; mbedTLS's headers
# are the host's, as only the syntax is checked): 64-bit file offsets.
warnings: | $(B)
	@set -e; rm -f $(B)/warnings.cmds; for cc in gcc clang; do for o in -O0 -O2; do \
	  for flags in "$(STD)" "-std=c11" "$(STD) -DKINAGG_USE_MBEDTLS" "$(STD) -DKINAGG_STATIC" \
	      "$(STD) -DKINAGG_SMALL" $(X86_SHA) $(foreach f,$(SWITCHES),"$(STD) $(subst _-D, -D,$(f))"); do \
	    echo "$$cc $$flags $(WARN) -Wdeclaration-after-statement $$o -c tests/embedded/impl.c" >>$(B)/warnings.cmds; \
	  done; \
	done; done; \
	for cxx in g++ clang++; do for s in c++11 c++17; do \
	  echo "$$cxx -x c++ -std=$$s $(WARN) $(WARN_CXX) -O2 -c tests/embedded/impl.c" >>$(B)/warnings.cmds; \
	done; done; \
	for flags in "" "-DKINAGG_SMALL" "-DKINAGG_FAST" $(foreach f,$(SWITCHES),"$(subst _-D, -D,$(f))"); do \
	  echo "clang $(STD) $(WARN) $(WARN_CONV) -O2 $$flags -c tests/embedded/impl.c" >>$(B)/warnings.cmds; \
	  echo "arm-none-eabi-gcc $(STD) -mcpu=cortex-m4 -mthumb -Os $(WARN) $(WARN_CONV) $$flags -c tests/embedded/impl.c" >>$(B)/warnings.cmds; \
	done; \
	for cxx in g++ clang++; do for f in $(foreach f,$(SWITCHES),"$(subst _-D, -D,$(f))"); do \
	  echo "$$cxx -x c++ -std=c++11 $(WARN) $(WARN_CXX) -O2 $$f -c tests/embedded/impl.c" >>$(B)/warnings.cmds; \
	done; done; \
	n=$$(wc -l <$(B)/warnings.cmds); \
	awk '{ print $$0 " -o $(B)/w" NR ".o" }' $(B)/warnings.cmds | xargs -d '\n' -P 2 -I CMD sh -c 'CMD' \
	  || { echo "warnings: a compilation above failed"; exit 1; }; \
	rm -f $(B)/w[0-9]*.o; \
	if gcc $(STD) -DKINAGG_NO_CBOR -DKINAGG_NO_JSON -c tests/embedded/impl.c -o $(B)/w.o 2>/dev/null; then \
	  echo "KINAGG_NO_CBOR with KINAGG_NO_JSON compiled"; exit 1; fi; n=$$((n + 1)); \
	for cc in gcc clang; do $$cc $(STD) $(WARN) -O2 tests/posix_c99.c -o $(B)/posix_c99; ./$(B)/posix_c99; n=$$((n + 1)); done; \
	g++ -x c++ -std=c++11 $(WARN) -O2 -c tests/posix_c99.c -o $(B)/w.o; n=$$((n + 1)); \
	aarch64-linux-gnu-gcc $(STD) $(WARN) -O2 -march=armv8-a+crypto -c tests/embedded/impl.c -o $(B)/w.o; n=$$((n + 1)); \
	for cc in gcc clang; do $$cc $(STD) $(WARN) -c tests/embedded/config_first.c -o $(B)/w.o; n=$$((n + 1)); done; \
	mkdir -p $(B)/armhf-inc; ln -sfn /usr/include/mbedtls $(B)/armhf-inc/mbedtls; \
	for t in kinagg-cat kinagg-tail; do \
	  arm-linux-gnueabihf-gcc $(STD) $(WARN) -O2 -isystem $(B)/armhf-inc -fsyntax-only examples/$$t.c; n=$$((n + 1)); \
	done; \
	echo "warnings: $$n passed, 0 failed"

# ---- unit tests, several ways ----------------------------------------------
$(B)/unit-gcc: tests/unit.c $(CORE) $(TESTHDR) | $(B)
	gcc $(STD) $(WARN) $(SAN) $< -o $@
$(B)/unit-clang: tests/unit.c $(CORE) $(TESTHDR) | $(B)
	clang $(STD) $(WARN) $(SAN) $< -o $@
$(B)/unit-mbedtls: tests/unit.c $(CORE) $(TESTHDR) | $(B)
	gcc $(STD) $(WARN) -O2 -DKINAGG_USE_MBEDTLS $< -o $@ -lmbedcrypto
$(B)/unit-small: tests/unit.c $(CORE) $(TESTHDR) | $(B)
	gcc $(STD) $(WARN) $(SAN) -DKINAGG_SMALL $< -o $@
# unit tests under the switches: a test of a part left out is skipped
$(B)/unit-no-cbor: tests/unit.c $(CORE) $(TESTHDR) | $(B)
	gcc $(STD) $(WARN) $(SAN) -DKINAGG_NO_CBOR $< -o $@
$(B)/unit-no-json: tests/unit.c $(CORE) $(TESTHDR) | $(B)
	gcc $(STD) $(WARN) $(SAN) -DKINAGG_NO_JSON $< -o $@
$(B)/unit-no-read: tests/unit.c $(CORE) $(TESTHDR) | $(B)
	gcc $(STD) $(WARN) $(SAN) -DKINAGG_NO_READ $< -o $@
$(B)/unit-simple-path: tests/unit.c $(CORE) $(TESTHDR) | $(B)
	gcc $(STD) $(WARN) $(SAN) -DKINAGG_SIGV4_SIMPLE_PATH $< -o $@
# the producer's own switches, all three: unit tests, memory, the model
$(B)/unit-minimal: tests/unit.c $(CORE) $(TESTHDR) | $(B)
	gcc $(STD) $(WARN) $(SAN) $(MINIMAL) $< -o $@
$(B)/producer_memory-minimal: tests/producer_memory.c $(CORE) tests/check.h | $(B)
	gcc $(STD) $(WARN) $(SAN) $(MINIMAL) $< -o $@
$(B)/producer_model-minimal: tests/producer_model.c $(CORE) tests/check.h | $(B)
	gcc $(STD) $(WARN) $(SAN) $(MINIMAL) $< -o $@
# the shard map in a firmware's build (one connection, no text, no source)
$(B)/producer_model-firmware: tests/producer_model.c $(CORE) tests/check.h | $(B)
	gcc $(STD) $(WARN) $(SAN) $(FIRMWARE) $< -o $@
$(B)/unit-shani: tests/unit.c $(CORE) $(TESTHDR) | $(B)
	gcc $(STD) $(WARN) $(SAN) -msha -msse4.1 $< -o $@
$(B)/unit-armv8-crypto: tests/unit.c $(CORE) $(TESTHDR) | $(B)
	aarch64-linux-gnu-gcc $(STD) $(WARN) -O2 -march=armv8-a+crypto -static $< -o $@
$(B)/unit-cxx: tests/unit.c $(CORE) $(TESTHDR) | $(B)
	g++ -x c++ -std=c++11 $(WARN) -Wno-missing-field-initializers $(SAN) $< -o $@
$(B)/cxx_smoke: tests/cxx_smoke.cpp $(CORE) | $(B)
	clang++ -std=c++11 $(WARN) $(SAN) $< -o $@
$(B)/producer_memory: tests/producer_memory.c $(CORE) tests/check.h | $(B)
	gcc $(STD) $(WARN) $(SAN) $< -o $@
$(B)/producer_model: tests/producer_model.c $(CORE) tests/check.h | $(B)
	gcc $(STD) $(WARN) $(SAN) $< -o $@
$(B)/noheap: tests/noheap.c $(CORE) tests/check.h | $(B)
	gcc $(STD) $(WARN) -O2 -fno-builtin $< $(WRAP) -o $@
$(B)/response_test: tests/response_test.c $(CORE) tests/check.h tests/canned_transport.h | $(B)
	gcc $(STD) $(WARN) $(SAN) $< -o $@

# ---- independent decoders and encoders --------------------------------------
$(GEN)/kpl.pb-c.c: proto/kpl.proto | $(GEN)
	protoc-c --c_out=$(GEN) --proto_path=proto $<
$(GEN)/kpl.pb.c: proto/kpl.proto | $(GEN)
	nanopb_generator.py -q -D $(GEN) -I proto $<
$(B)/kinagg_write: tests/xcheck/kinagg_write.c $(CORE) $(TESTHDR) $(XHDR) | $(B)
	gcc $(STD) -D_GNU_SOURCE $(WARN) -O2 $< -o $@
$(B)/kinagg_read: tests/xcheck/kinagg_read.c $(CORE) $(XHDR) | $(B)
	gcc $(STD) $(WARN) $(SAN) $< -o $@
$(B)/pbc_check: tests/xcheck/pbc_check.c $(GEN)/kpl.pb-c.c $(TESTHDR) $(XHDR)
	gcc $(STD) $(WARN) -O2 -I$(GEN) $(GEN)/kpl.pb-c.c $< -lprotobuf-c -lmbedcrypto -o $@
$(B)/nanopb_check: tests/xcheck/nanopb_check.c $(GEN)/kpl.pb.c $(XHDR)
	gcc $(STD) $(WARN) -O2 -I$(GEN) $(GEN)/kpl.pb.c $< -lprotobuf-nanopb -lmbedcrypto -o $@
$(B)/hashkey_tool: tests/xcheck/hashkey_tool.c $(CORE) | $(B)
	gcc $(STD) $(WARN) $(SAN) $< -o $@

# ---- network: kinesalite behind a SigV4-verifying proxy (tests/net) -------
MBED_STATIC := -Wl,-Bstatic -lmbedtls -lmbedx509 -lmbedcrypto -Wl,-Bdynamic
NETHDR := port/kinagg_posix.h port/kinagg_mbedtls.h tests/net/net_util.h
$(B)/kinesis_test: tests/net/kinesis_test.c $(CORE) $(NETHDR) tests/check.h | $(B)
	gcc $(STD) $(WARN) $(SAN) $< -o $@
$(B)/kinesis_test_tls: tests/net/kinesis_test.c $(CORE) $(NETHDR) tests/check.h | $(B)
	gcc $(STD) $(WARN) $(SAN) -DKINAGG_TEST_TLS $< -lmbedtls -lmbedx509 -lmbedcrypto -o $@
$(B)/tls_test: tests/net/tls_test.c $(CORE) $(NETHDR) tests/check.h | $(B)
	gcc $(STD) $(WARN) -O2 $< -Wl,--wrap=calloc,--wrap=free $(MBED_STATIC) -o $@
$(B)/producer_test: tests/net/producer_test.c $(CORE) port/kinagg_posix.h tests/check.h tests/net/net_util.h | $(B)
	gcc $(STD) $(WARN) -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all $< -o $@
$(B)/producer_promises: tests/net/producer_promises.c $(CORE) port/kinagg_posix.h tests/check.h tests/net/net_util.h | $(B)
	gcc $(STD) $(WARN) -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all $< -o $@
$(B)/http_test: tests/http_test.c $(CORE) port/kinagg_posix.h tests/check.h | $(B)
	gcc $(STD) $(WARN) $(SAN) $< -o $@
$(B)/lwip_port_test: tests/net/lwip_port_test.c $(CORE) port/kinagg_lwip.h tests/check.h | $(B)
	gcc $(STD) $(WARN) -g -I/usr/include/lwip $< -llwip -lpthread -o $@
$(B)/lwip_test: tests/net/lwip_test.c $(CORE) port/kinagg_lwip.h tests/check.h tests/net/net_util.h | $(B)
	gcc $(STD) $(WARN) -g -I/usr/include/lwip $< -llwip -lpthread -o $@
$(B)/pki/done: tests/net/certs.sh
	bash $< $(B)/pki

# ---- other CPUs: static binaries run under qemu-user ------------------------
$(B)/unit-%-cross: tests/unit.c $(CORE) $(TESTHDR) | $(B)
	$(call cross_cc,$*) $(STD) $(WARN) -O2 -static $< -o $@
$(B)/noheap-%-cross: tests/noheap.c $(CORE) tests/check.h | $(B)
	$(call cross_cc,$*) $(STD) $(WARN) -O2 -fno-builtin -static $< $(WRAP) -o $@
$(B)/producer_memory-%-cross: tests/producer_memory.c $(CORE) tests/check.h | $(B)
	$(call cross_cc,$*) $(STD) $(WARN) -O2 -static $< -o $@
$(B)/kinagg_read-%-cross: tests/xcheck/kinagg_read.c $(CORE) $(XHDR) | $(B)
	$(call cross_cc,$*) $(STD) $(WARN) -O2 -static $< -o $@
$(B)/kinagg_write-%-cross: tests/xcheck/kinagg_write.c $(CORE) $(TESTHDR) $(XHDR) | $(B)
	$(call cross_cc,$*) $(STD) -D_GNU_SOURCE $(WARN) -O2 -static $< -o $@
cross_cc = $(firstword $(foreach p,$(CROSS),$(if $(filter $(1),$(lastword $(subst :, ,$(p)))),$(firstword $(subst :, ,$(p)))-gcc)))

# ---- Cortex-M4 --------------------------------------------------------------
# kinagg.h alone, and with the lwIP port (lwIP's headers with a firmware's
# lwipopts.h and arch/ from tests/embedded/lwip). make size reports what a
# firmware needs: the linked size of each combination of layers, the
# worst-case stack of every public function over the call graph, and the
# producer region of sample configurations (computed on the M4 under QEMU).
M4CC     := arm-none-eabi-gcc $(STD) $(WARN) $(M4FLAGS)
M4LINK   := arm-none-eabi-gcc $(M4FLAGS) -nostartfiles -specs=nano.specs
FW       := tests/firmware
FWB      := $(B)/m4/fw
QEMU_M4  := qemu-system-arm -M mps2-an386 -nodefaults -display none \
            -semihosting-config enable=on,target=native -kernel
$(B)/m4/kinagg.o $(B)/m4/kinagg.ci &: tests/embedded/impl.c $(CORE) | $(B)/m4
	$(M4CC) -fstack-usage -fcallgraph-info=su -c $< -o $(B)/m4/kinagg.o
$(B)/m4/kinagg-fast.o: tests/embedded/impl.c $(CORE) | $(B)/m4
	$(M4CC) -DKINAGG_FAST -c $< -o $@
$(B)/m4/kinagg_lwip.o: tests/embedded/lwip_port.c $(CORE) port/kinagg_lwip.h | $(B)/m4
	$(M4CC) -Itests/embedded/lwip -I/usr/include/lwip -c $< -o $@

$(B)/m4/sizes.o: tests/embedded/sizes.c $(CORE) | $(B)/m4
	$(M4CC) -fno-common -c $< -o $@

# layer combinations (tests/embedded/layers.c): 1 aggregator, 2 + signer,
# 3 + HTTP and PutRecords, 4 the whole producer; "all" keeps every function
# (no --gc-sections), for the libc and libgcc frames of the stack report
$(B)/m4/layers-%.o: tests/embedded/layers.c $(CORE) | $(B)/m4
	$(M4CC) -DLAYERS=$* -c $< -o $@
$(B)/m4/layers-%.elf: $(B)/m4/layers-%.o $(B)/m4/kinagg.o
	$(M4LINK) -Wl,--gc-sections -Wl,-e,main -Wl,-Map,$(B)/m4/layers-$*.map $^ -o $@
$(B)/m4/layers-all.elf: $(B)/m4/layers-4.o $(B)/m4/kinagg.o
	$(M4LINK) -Wl,-e,main $^ -o $@

# The same layers in the builds a producer-only firmware makes with one wire
# protocol: KINAGG_NO_CBOR (json) or KINAGG_NO_JSON (cbor), without the
# read-side calls and with the signer for Kinesis's plain POST /.
SLIM       := -DKINAGG_NO_READ -DKINAGG_SIGV4_SIMPLE_PATH
ONLY_json  := -DKINAGG_NO_CBOR $(SLIM)
ONLY_cbor  := -DKINAGG_NO_JSON $(SLIM)
# and with the producer's own parts left out too: the smallest producer
ONLY_json-min := $(ONLY_json) $(MINIMAL)
ONLY_cbor-min := $(ONLY_cbor) $(MINIMAL)
ONLY_both-min := $(SLIM) $(MINIMAL)
# and with the shard map kept: the producer a firmware with many keys builds
ONLY_json-map := $(ONLY_json) $(FIRMWARE)
ONLY_cbor-map := $(ONLY_cbor) $(FIRMWARE)
# and the JSON one with newlib's memory functions in place of the library's
# byte loops (as a firmware that links them anyway would build it)
ONLY_json-libc := $(ONLY_json) -DKINAGG_LIBC_MEMORY
ONLY_VARIANTS := json cbor json-map cbor-map json-min cbor-min both-min json-libc
define only_rules
$(B)/m4/$(1):
	@mkdir -p $$@
$(B)/m4/$(1)/kinagg.o: tests/embedded/impl.c $(CORE) | $(B)/m4/$(1)
	$(M4CC) $(ONLY_$(1)) -fstack-usage -fcallgraph-info=su -c $$< -o $$@
$(B)/m4/$(1)/layers-%.o: tests/embedded/layers.c $(CORE) | $(B)/m4/$(1)
	$(M4CC) $(ONLY_$(1)) -DLAYERS=$$* -c $$< -o $$@
$(B)/m4/$(1)/layers-%.elf: $(B)/m4/$(1)/layers-%.o $(B)/m4/$(1)/kinagg.o
	$(M4LINK) -Wl,--gc-sections -Wl,-e,main -Wl,-Map,$(B)/m4/$(1)/layers-$$*.map $$^ -o $$@
endef
$(foreach v,$(ONLY_VARIANTS),$(eval $(call only_rules,$(v))))
layer_maps = "aggregator=$(1)/layers-1.map" "+ SigV4 signer=$(1)/layers-2.map:8192" \
             "+ HTTP + Kinesis PutRecords=$(1)/layers-3.map" "whole producer=$(1)/layers-4.map:$(2)"
size: deps $(B)/m4/kinagg.o $(B)/m4/kinagg.ci $(B)/m4/kinagg_lwip.o $(B)/m4/kinagg-fast.o $(B)/m4/sizes.o $(foreach n,1 2 3 4 all,$(B)/m4/layers-$(n).elf) \
      $(foreach v,$(ONLY_VARIANTS),$(foreach n,1 2 3 4,$(B)/m4/$(v)/layers-$(n).elf)) $(FWB)/region_sizes.elf \
      $(FWB)/min/region_sizes.elf
	@echo "Cortex-M4 (arm-none-eabi-gcc -Os, Thumb-2), bytes:"
	@arm-none-eabi-size -B $(B)/m4/kinagg.o $(B)/m4/kinagg_lwip.o $(B)/m4/kinagg-fast.o | sed 's|$(B)/m4/kinagg.o|kinagg.h (all layers)|; s|$(B)/m4/kinagg_lwip.o|kinagg.h + port/kinagg_lwip.h|; s|$(B)/m4/kinagg-fast.o|kinagg.h -DKINAGG_FAST (unrolled crypto, key index)|'
	@node tests/embedded/size_report.js --header $(CORE) --title "both wire protocols (JSON and CBOR), every call" \
	  $(call layer_maps,$(B)/m4,24576)
	@node tests/embedded/size_report.js --header $(CORE) --title "JSON only: -DKINAGG_NO_CBOR $(SLIM)" \
	  $(call layer_maps,$(B)/m4/json,20480)
	@node tests/embedded/size_report.js --header $(CORE) --title "CBOR only: -DKINAGG_NO_JSON $(SLIM)" \
	  $(call layer_maps,$(B)/m4/cbor,20480)
	@node tests/embedded/size_report.js --header $(CORE) --title "firmware producer with the shard map, JSON only: $(ONLY_json-map)" \
	  $(call layer_maps,$(B)/m4/json-map,20480)
	@node tests/embedded/size_report.js --header $(CORE) --title "firmware producer with the shard map, CBOR only: $(ONLY_cbor-map)" \
	  $(call layer_maps,$(B)/m4/cbor-map,20480)
	@node tests/embedded/size_report.js --header $(CORE) --title "smallest producer, JSON only: $(ONLY_json-min)" \
	  $(call layer_maps,$(B)/m4/json-min,20480)
	@node tests/embedded/size_report.js --header $(CORE) --title "smallest producer, CBOR only: $(ONLY_cbor-min)" \
	  $(call layer_maps,$(B)/m4/cbor-min,20480)
	@node tests/embedded/size_report.js --header $(CORE) --title "smallest producer, both protocols: $(ONLY_both-min)" \
	  $(call layer_maps,$(B)/m4/both-min,24576)
	@node tests/embedded/size_report.js --header $(CORE) --title "JSON only, with libc's memory functions: $(ONLY_json-libc)" \
	  $(call layer_maps,$(B)/m4/json-libc,20480) | grep -vE '^  (static RAM|whole producer[:,])'
	@node tests/embedded/stack_report.js --ci $(B)/m4/kinagg.ci --obj $(B)/m4/kinagg.o --elf $(B)/m4/layers-all.elf \
	  --api $(CORE) --target 2048 --paths
	@echo "the smallest producer, JSON only ($(ONLY_json-min)):"
	@node tests/embedded/stack_report.js --ci $(B)/m4/json-min/kinagg.ci --obj $(B)/m4/json-min/kinagg.o --elf $(B)/m4/layers-all.elf \
	  --api $(CORE) --target 2048 | sed 's/^/  /' | head -8
	@$(QEMU_M4) $(FWB)/region_sizes.elf 2>$(FWB)/qemu.err; rc=$$?; grep -v 'lan9118.0 has no peer' $(FWB)/qemu.err >&2; exit $$rc
	@echo "the smallest producer ($(MINIMAL)):"
	@$(QEMU_M4) $(FWMB)/region_sizes.elf 2>$(FWB)/qemu.err | sed 's/^/  /' | head -5; grep -v 'lan9118.0 has no peer' $(FWB)/qemu.err >&2 || true
	@echo "context structs (bytes, the caller's to place):"
	@arm-none-eabi-nm -S -t d $(B)/m4/sizes.o | awk '{ sub("size_of_", "", $$4); printf "%8d  %s\n", $$2, $$4 }' | sort -n

# ---- firmware: the producer on QEMU's mps2-an386 in 64 KB of RAM -----------
# tests/firmware: start-up, clock and semihosting (board.c), a transport
# over UART0 (uart_link.c) to a host bridge (bridge.js), the test
# (producer_fw.c). Long-term keys only: the producer's room for credentials
# is cut from 4096 to 256 bytes. Built as a producer-only JSON firmware.
FWOPT  := -DKINAGG_PRODUCER_CREDENTIALS_MAX=256 -DKINAGG_NO_CBOR $(SLIM)
FWHDR  := $(FW)/board.h $(FW)/fw_config.h $(FW)/uart_link.h $(CORE)
FWOBJ  := $(FWB)/producer_fw.o $(FWB)/uart_link.o $(FWB)/board.o
$(FWB):
	@mkdir -p $@
$(FWB)/%.o: $(FW)/%.c $(FWHDR) | $(FWB)
	$(M4CC) $(FWOPT) -fstack-usage -fcallgraph-info=su -c $< -o $@
$(FWB)/producer.elf: $(FWOBJ) $(FW)/mps2.ld
	$(M4LINK) -Wl,--gc-sections -T $(FW)/mps2.ld -Wl,-Map,$(FWB)/producer.map $(FWOBJ) -o $@
# the same firmware as the smallest producer builds it ($(MINIMAL)), as a
# device with 3 partition keys (without a shard map, only records of one
# key are aggregated)
FWMB   := $(FWB)/min
FWMOBJ := $(FWMB)/producer_fw.o $(FWMB)/uart_link.o $(FWMB)/board.o
$(FWMB):
	@mkdir -p $@
$(FWMB)/%.o: $(FW)/%.c $(FWHDR) | $(FWMB)
	$(M4CC) $(FWOPT) $(MINIMAL) -DFW_KEYS=3 -fstack-usage -fcallgraph-info=su -c $< -o $@
$(FWMB)/producer.elf: $(FWMOBJ) $(FW)/mps2.ld
	$(M4LINK) -Wl,--gc-sections -T $(FW)/mps2.ld -Wl,-Map,$(FWMB)/producer.map $(FWMOBJ) -o $@
$(FWB)/region_sizes.o: $(FW)/region_sizes.c $(FWHDR) | $(FWB)
	$(M4CC) -c $< -o $@
$(FWB)/region_sizes.elf: $(FWB)/region_sizes.o $(FWB)/board.o $(FW)/mps2.ld
	$(M4LINK) -Wl,--gc-sections -T $(FW)/mps2.ld $(FWB)/region_sizes.o $(FWB)/board.o -o $@
$(FWMB)/region_sizes.o: $(FW)/region_sizes.c $(FWHDR) | $(FWMB)
	$(M4CC) $(MINIMAL) -c $< -o $@
$(FWMB)/region_sizes.elf: $(FWMB)/region_sizes.o $(FWB)/board.o $(FW)/mps2.ld
	$(M4LINK) -Wl,--gc-sections -T $(FW)/mps2.ld $(FWMB)/region_sizes.o $(FWB)/board.o -o $@

# the firmware's worst-case stack over its call graph (interrupts included),
# checked against the stack its linker script gives it
fw-stack: $(FWB)/producer.elf
	@node tests/embedded/stack_report.js $(foreach o,$(FWOBJ),--ci $(o:.o=.ci) --obj $(o)) --elf $< \
	  --root fw_reset --isr fw_systick --isr fw_uart0_rx_irq --isr fw_fault
	@arm-none-eabi-size -A $< | awk '$$1 ~ /^\.(text|data|bss|stack)$$/ { printf "%s %d  ", $$1, $$2 } END { print "" }'
fw-stack-min: $(FWMB)/producer.elf
	@node tests/embedded/stack_report.js $(foreach o,$(FWMOBJ),--ci $(o:.o=.ci) --obj $(o)) --elf $< \
	  --root fw_reset --isr fw_systick --isr fw_uart0_rx_irq --isr fw_fault
	@arm-none-eabi-size -A $< | awk '$$1 ~ /^\.(text|data|bss|stack)$$/ { printf "%s %d  ", $$1, $$2 } END { print "" }'

# ---- fuzzing ----------------------------------------------------------------
# deagg: the deaggregator; http: the HTTP response parser; json, cbor: the
# Kinesis response parsers. make test runs each briefly; make fuzz, longer.
FUZZERS := deagg http json cbor
FUZZ_CC := clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
$(B)/fuzz_deagg: tests/fuzz/fuzz_deagg.c $(CORE) | $(B)
	$(FUZZ_CC) $< -o $@
$(B)/fuzz_http: tests/fuzz/fuzz_http.c $(CORE) | $(B)
	$(FUZZ_CC) $< -o $@
$(B)/fuzz_json: tests/fuzz/fuzz_kinesis.c $(CORE) | $(B)
	$(FUZZ_CC) $< -o $@
$(B)/fuzz_cbor: tests/fuzz/fuzz_kinesis.c $(CORE) | $(B)
	$(FUZZ_CC) -DFUZZ_CBOR $< -o $@

fuzz: deps $(addprefix $(B)/fuzz_,$(FUZZERS))
	@for f in $(FUZZERS); do \
	  mkdir -p $(B)/fuzz-corpus/$$f; seeds=; [ -d tests/fuzz/seeds/$$f ] && seeds=tests/fuzz/seeds/$$f; \
	  echo "== fuzz_$$f for $(FUZZ_LONG_SECONDS)s"; \
	  ./$(B)/fuzz_$$f -max_total_time=$(FUZZ_LONG_SECONDS) -max_len=65536 $(B)/fuzz-corpus/$$f $$seeds \
	    > $(B)/fuzz_$$f.log 2>&1; rc=$$?; tail -3 $(B)/fuzz_$$f.log; [ $$rc -eq 0 ] || exit 1; \
	done

# ---- benchmarks -------------------------------------------------------------
# kinagg against npm aws-kinesis-agg, OpenSSL and mbedTLS, and the whole producer
# path against Node and the AWS SDK (docs/performance.md). BENCH_ONLY=agg|path.
bench: deps
	@bash tests/bench/run.sh

# kinagg.h against itself at an earlier commit, in one program or two runs
# over the same inputs (tests/xcheck/sidebyside): a change meant to keep
# behaviour (a size or speed cut) must make no difference.
# make sidebyside REV=<commit> [SIDEBYSIDE_ITERATIONS=3000] [SEED=n]
sidebyside: deps
	@bash tests/xcheck/sidebyside/run.sh $(or $(REV),HEAD~1) $(or $(SIDEBYSIDE_ITERATIONS),3000) $(or $(SEED),1)

# ---- demo -------------------------------------------------------------------
$(B)/agg_demo: examples/agg_demo.c $(CORE) | $(B)
	gcc $(STD) $(WARN) -O2 $< -o $@
TOOLHDR := examples/tool_common.h port/kinagg_posix.h port/kinagg_mbedtls.h port/kinagg_aws_config.h $(CORE)
# The tools are built for the machine that builds them, with the fastest
# crypto it has: the header's own MD5 and SHA-256 (faster than mbedTLS's,
# make bench), SHA-256 on the x86 SHA extensions when the CPU has them.
# TOOL_CFLAGS= builds binaries for any x86-64.
TOOL_CFLAGS ?= $(if $(shell grep -qw sha_ni /proc/cpuinfo 2>/dev/null && echo y),-msha -msse4.1)
$(B)/kinagg-cat: examples/kinagg-cat.c $(TOOLHDR) | $(B)
	gcc $(STD) $(WARN) -O2 $(TOOL_CFLAGS) $< -lmbedtls -lmbedx509 -lmbedcrypto -o $@
$(B)/kinagg-tail: examples/kinagg-tail.c $(TOOLHDR) | $(B)
	gcc $(STD) $(WARN) -O2 $(TOOL_CFLAGS) $< -lmbedtls -lmbedx509 -lmbedcrypto -o $@
$(B)/aws_config_test: tests/aws_config_test.c $(CORE) port/kinagg_aws_config.h tests/check.h | $(B)
	gcc $(STD) $(WARN) $(SAN) $< -o $@
$(B)/producer_posix: examples/producer_posix.c $(CORE) port/kinagg_posix.h | $(B)
	gcc $(STD) $(WARN) $(SAN) $< -o $@
$(B)/game_loop: examples/game_loop.cpp $(CORE) port/kinagg_posix.h | $(B)
	g++ -std=c++11 $(WARN) $(SAN) $< -o $@
$(B)/quickstart: examples/quickstart.c $(CORE) | $(B)
	gcc $(STD) $(WARN) $(SAN) $< -o $@

# ---- credentials where users run: port/kinagg_aws_credentials.h -------------
CREDSHDR := port/kinagg_aws_credentials.h port/kinagg_posix.h port/kinagg_mbedtls.h port/kinagg_aws_config.h $(CORE)
MBED_LIBS := -lmbedtls -lmbedx509 -lmbedcrypto
$(B)/creds_test: tests/creds/creds_test.c $(CREDSHDR) tests/check.h | $(B)
	gcc $(STD) $(WARN) $(SAN) $< $(MBED_LIBS) -o $@
$(B)/pki-creds/done: tests/creds/certs.sh
	bash $< $(B)/pki-creds
$(B)/kinagg-cat $(B)/kinagg-tail: port/kinagg_aws_credentials.h
# the port under each compiler and language the library is built with
creds-warnings: | $(B)
	@n=0; set -e; for v in "gcc -std=c99 -O2" "clang -std=c11 -O2 -DKINAGG_STATIC" "g++ -x c++ -std=c++11 -O2" \
	  "clang++ -x c++ -std=c++17 -O0"; do \
	  $$v $(WARN) tests/creds/creds_impl.c $(MBED_LIBS) -o $(B)/creds_impl; ./$(B)/creds_impl; n=$$((n + 1)); \
	done; echo "creds-warnings: $$n passed, 0 failed"
$(B)/rotation_test: tests/creds/rotation_test.c $(CREDSHDR) tests/check.h tests/net/net_util.h | $(B)
	gcc $(STD) $(WARN) $(SAN) $< $(MBED_LIBS) -o $@
# libFuzzer: the credential documents (make test runs each for 10 s; make fuzz longer)
CREDS_FUZZERS := creds_json creds_xml creds_process
FUZZERS += $(CREDS_FUZZERS)
fuzz: $(addprefix $(B)/fuzz_,$(CREDS_FUZZERS))
$(B)/fuzz_creds_json: tests/fuzz/fuzz_creds.c $(CREDSHDR) | $(B)
	$(FUZZ_CC) $< $(MBED_LIBS) -o $@
$(B)/fuzz_creds_xml: tests/fuzz/fuzz_creds.c $(CREDSHDR) | $(B)
	$(FUZZ_CC) -DFUZZ_CREDS_XML $< $(MBED_LIBS) -o $@
$(B)/fuzz_creds_process: tests/fuzz/fuzz_creds.c $(CREDSHDR) | $(B)
	$(FUZZ_CC) -DFUZZ_CREDS_PROCESS $< $(MBED_LIBS) -o $@
