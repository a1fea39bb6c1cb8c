#!/bin/sh
# SPDX-License-Identifier: MIT
# Compiles the wire structs' static_asserts (include/BlightTransport/wirelayout.h)
# for x86_64, 32-bit ARM (armhf: reMarkable 1 and 2) and arm64 (Paper Pro) with
# Debian's cross compilers. Qt's headers are not needed: wirelayout.h is Qt-free.
set -eu
cd "$(dirname "$0")/.."

# Each entry: compiler, the target triplet it must report (-dumpmachine), its Debian package.
compilers="g++:x86_64-linux-gnu:g++
arm-linux-gnueabihf-g++:arm-linux-gnueabihf:g++-arm-linux-gnueabihf
aarch64-linux-gnu-g++:aarch64-linux-gnu:g++-aarch64-linux-gnu"

status=0
for entry in $compilers; do
    cxx=${entry%%:*}
    package=${entry##*:}
    triplet=${entry#*:}
    triplet=${triplet%:*}
    if ! command -v "$cxx" >/dev/null 2>&1; then
        echo "check-arm-layout: $cxx not found (Debian package $package; tools/install-deps.sh installs it)" >&2
        status=1
        continue
    fi
    machine=$("$cxx" -dumpmachine)
    if [ "$machine" != "$triplet" ]; then
        echo "check-arm-layout: $cxx targets $machine, expected $triplet" >&2
        status=1
        continue
    fi
    # The layout as that ABI lays it out: every static_assert must hold.
    if ! printf '#include <BlightTransport/wirelayout.h>\n' \
        | "$cxx" -std=c++20 -fsyntax-only -Wall -Wextra -Werror -Iinclude -x c++ -; then
        echo "check-arm-layout: FAILED for $machine" >&2
        status=1
        continue
    fi
    # And the compiler really evaluates them: a wrong size must be refused.
    if printf '#include <BlightTransport/wirelayout.h>\nstatic_assert(sizeof(Blight::InfoReply) == 31);\n' \
        | "$cxx" -std=c++20 -fsyntax-only -Iinclude -x c++ - 2>/dev/null; then
        echo "check-arm-layout: $cxx accepted a false static_assert; the check proves nothing" >&2
        status=1
        continue
    fi
    echo "check-arm-layout: $machine ok"
done
exit $status
