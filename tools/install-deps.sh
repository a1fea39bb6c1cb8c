#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs what building, testing and fuzzing the project needs on Debian 12.
set -eu
if [ "$(id -u)" -ne 0 ]; then
    exec sudo "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
    ca-certificates cmake ninja-build g++ clang libclang-rt-14-dev \
    qt6-base-dev qt6-declarative-dev \
    qml6-module-qttest qml6-module-qtquick qml6-module-qtquick-window \
    qml6-module-qtqml-workerscript qml6-module-qtquick-controls \
    qml6-module-qtquick-layouts qml6-module-qtquick-templates \
    fonts-dejavu-core iproute2 dbus-daemon \
    pkg-config doxygen clang-format liburing-dev \
    g++-arm-linux-gnueabihf g++-aarch64-linux-gnu
