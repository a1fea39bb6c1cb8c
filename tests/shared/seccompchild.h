// SPDX-License-Identifier: MIT
// Running a piece of a test in a forked child, and the seccomp filter that
// refuses io_uring_setup there: the refusal a container gives, without the
// global sysctl.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QString>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <iterator>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace TestUtil {

#if defined(__x86_64__)
constexpr quint32 SeccompArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr quint32 SeccompArch = AUDIT_ARCH_AARCH64;
#elif defined(__arm__)
constexpr quint32 SeccompArch = AUDIT_ARCH_ARM;
#else
constexpr quint32 SeccompArch = 0;
#endif

/*! Makes io_uring_setup fail with \a error in this process from now on and
    allows everything else (other architectures' numbers differ: allowed). */
inline bool installIoUringSetupRefusal(int error)
{
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SeccompArch, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (quint32(error) & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog program{static_cast<unsigned short>(std::size(filter)), filter};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return false;
    return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) == 0;
}

struct ChildOutput
{
    bool ran = false; //!< the child exited cleanly and wrote its answer
    QString failure;  //!< why not
    QByteArray out;   //!< what \c work returned in the child
};

/*! Forks; the child runs \a work and writes what it returns to a pipe, then
    exits without running the parent's destructors; the parent reads it. */
inline ChildOutput runInChild(const std::function<QByteArray()> &work)
{
    ChildOutput result;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        result.failure = QStringLiteral("pipe: %1").arg(QString::fromLocal8Bit(std::strerror(errno)));
        return result;
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
        result.failure = QStringLiteral("fork: %1").arg(QString::fromLocal8Bit(std::strerror(errno)));
        ::close(fds[0]);
        ::close(fds[1]);
        return result;
    }
    if (pid == 0) {
        ::close(fds[0]);
        const QByteArray out = work();
        qsizetype done = 0;
        while (done < out.size()) {
            const ssize_t n = ::write(fds[1], out.constData() + done, size_t(out.size() - done));
            if (n <= 0)
                break;
            done += n;
        }
        ::_exit(0);
    }
    ::close(fds[1]);
    char buffer[512];
    for (;;) {
        const ssize_t n = ::read(fds[0], buffer, sizeof(buffer));
        if (n > 0)
            result.out.append(buffer, n);
        else if (n == 0 || errno != EINTR)
            break;
    }
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        result.failure = QStringLiteral("the child did not exit cleanly (status %1)").arg(status);
        return result;
    }
    result.ran = true;
    return result;
}

} // namespace TestUtil
