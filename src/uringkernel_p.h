// SPDX-License-Identifier: MIT
// liburing, plus the io_uring constants that Debian 12's liburing 2.3 lacks.
#pragma once

#include <liburing.h>

// liburing 2.3 ships its own copy of the uapi header, older than the kernel
// it runs on. The values below are the kernel's ABI: Linux 6.2's
// include/uapi/linux/io_uring.h, the same as Debian 12's linux-libc-dev
// (6.1.x backport) /usr/include/linux/io_uring.h on this machine, lines 315
// and 324. That header cannot be included beside liburing's copy (both
// define the same structures), hence the copies here.
#ifndef IORING_SEND_ZC_REPORT_USAGE
#  define IORING_SEND_ZC_REPORT_USAGE (1U << 3) // sqe->ioprio flag of SEND_ZC
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#  define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31) // in the notification's cqe->res
#endif
