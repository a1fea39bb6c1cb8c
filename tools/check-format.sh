#!/bin/sh
# SPDX-License-Identifier: MIT
# CI's style gate: clang-format (the repository's .clang-format) must leave every
# tracked C++ file as it is, and every tracked source file must carry an
# SPDX-License-Identifier line in its first 3 lines (tools/add-spdx.sh adds it).
set -eu
cd "$(dirname "$0")/.."
clang_format=${CLANG_FORMAT:-clang-format}
status=0

if ! command -v "$clang_format" >/dev/null 2>&1; then
    echo "check-format: $clang_format not found (Debian package clang-format)" >&2
    exit 1
fi

cpp_files=$(git ls-files -- '*.cpp' '*.h')
unformatted=0
for file in $cpp_files; do
    if ! "$clang_format" --dry-run -Werror "$file" 2>/dev/null; then
        echo "check-format: not formatted: $file" >&2
        unformatted=$((unformatted + 1))
    fi
done
if [ "$unformatted" -ne 0 ]; then
    echo "check-format: $unformatted C++ files differ from .clang-format; see: $clang_format --dry-run FILE" >&2
    status=1
fi

missing=0
for file in $(tools/spdx-files.sh); do
    if ! head -n 3 "$file" | grep -q 'SPDX-License-Identifier:'; then
        echo "check-format: no SPDX-License-Identifier in the first 3 lines: $file" >&2
        missing=$((missing + 1))
    fi
done
if [ "$missing" -ne 0 ]; then
    echo "check-format: $missing files lack an SPDX line; tools/add-spdx.sh adds it" >&2
    status=1
fi

if [ "$status" -eq 0 ]; then
    echo "check-format: $(echo "$cpp_files" | wc -w) C++ files formatted, every source file has its SPDX line"
fi
exit $status
