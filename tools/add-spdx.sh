#!/bin/sh
# SPDX-License-Identifier: MIT
# Adds "SPDX-License-Identifier: MIT" as line 1 (line 2 after a shebang) of every
# tracked source file, or of the files given, that has none in its first 3 lines.
# "//" comments for C++ and QML, "#" for CMake, shell and Python.
set -eu
cd "$(dirname "$0")/.."
if [ "$#" -eq 0 ]; then
    set -- $(tools/spdx-files.sh)
fi

added=0
for file in "$@"; do
    if head -n 3 "$file" | grep -q 'SPDX-License-Identifier:'; then
        continue
    fi
    case "$file" in
        *.cpp | *.h | *.qml) line='// SPDX-License-Identifier: MIT' ;;
        *.cmake | *CMakeLists.txt | *.sh | *.py) line='# SPDX-License-Identifier: MIT' ;;
        *) echo "add-spdx: no comment style known for $file" >&2; exit 1 ;;
    esac
    tmp=$(mktemp)
    if head -n 1 "$file" | grep -q '^#!'; then
        { head -n 1 "$file"; echo "$line"; tail -n +2 "$file"; } >"$tmp"
    else
        { echo "$line"; cat "$file"; } >"$tmp"
    fi
    cat "$tmp" >"$file" # keeps the file's mode (scripts stay executable)
    rm -f "$tmp"
    echo "add-spdx: $file"
    added=$((added + 1))
done
echo "add-spdx: added the line to $added files"
