// SPDX-License-Identifier: MIT
// The harness's private helpers shared by harness.cpp and output.cpp.
#pragma once

#include <QtCore/QTextStream>

namespace Bench::Detail {

/*! The benchmark's standard output (tables, skips, targets). */
QTextStream &out();

} // namespace Bench::Detail
