// SPDX-License-Identifier: MIT
// Whether io_uring SEND_ZC can be used in this process, and why not.
#pragma once

#include <QtCore/QString>

namespace Blight {

/*! What the probe found. When \c available is false, \c reason says why
    (short, for zeroCopyReason and the panel); when it is true, \c reason
    says what works. */
struct UringSupport
{
    bool available = false;   //!< a ring can be set up and has IORING_OP_SEND_ZC
    bool reportUsage = false; //!< the kernel accepts IORING_SEND_ZC_REPORT_USAGE (COPIED is visible)
    QString reason;
};

/*!
    Finds out, once per process, whether io_uring zero-copy sends work here:
    built with liburing; not switched off by \c kernel.io_uring_disabled; ring
    setup not refused (seccomp in a container answers EPERM or ENOSYS);
    IORING_OP_SEND_ZC in the kernel's opcode probe; and whether the kernel
    accepts IORING_SEND_ZC_REPORT_USAGE, tried with one SEND_ZC on a UDP
    socket connected to its own port on 127.0.0.1 (EINVAL means refused).
*/
class UringProbe
{
public:
    //! The values of kernel.io_uring_disabled (Linux 6.6+; absent before).
    enum class Disabled {
        Enabled,   //!< 0, or the file does not exist (older kernels)
        GroupOnly, //!< 1: only CAP_SYS_ADMIN or members of kernel.io_uring_group
        Off,       //!< 2: nobody may create a ring
        Unknown,   //!< unreadable or not a known value: the setup call decides
    };

    static QString defaultDisabledPath() { return QStringLiteral("/proc/sys/kernel/io_uring_disabled"); }

    /*! Reads the sysctl file at \a path. */
    static Disabled readDisabled(const QString &path);

    /*! The cached result for this process (thread-safe; the first call probes). */
    static const UringSupport &probe();

    /*! Probes now, reading the sysctl from \a disabledPath (tests pass their own file). */
    static UringSupport run(const QString &disabledPath);
};

} // namespace Blight
