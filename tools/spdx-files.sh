#!/bin/sh
# SPDX-License-Identifier: MIT
# Lists the tracked source files that must carry an SPDX-License-Identifier line
# (shared by check-format.sh and add-spdx.sh).
cd "$(dirname "$0")/.."
git ls-files -- '*.cpp' '*.h' '*.qml' '*.cmake' 'CMakeLists.txt' '*/CMakeLists.txt' '*.sh' '*.py'
