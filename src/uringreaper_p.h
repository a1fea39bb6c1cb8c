// SPDX-License-Identifier: MIT
// Keeps a destroyed sender's ring until the kernel has finished with its sends.
#pragma once

#include "uringring_p.h"

#include <QtCore/QBasicTimer>
#include <QtCore/QObject>

#include <memory>

QT_BEGIN_NAMESPACE
class QSocketNotifier;
QT_END_NAMESPACE

namespace Blight {

/*!
    Owns the ring of a UringSender that was destroyed while sends were in
    flight. It lives in the thread that destroyed the sender, drains the
    ring from its eventfd notifier (releasing what each send held as its
    last completion comes in), and deletes itself and the ring when nothing
    is outstanding, when \a timeoutMs runs out (a warning says how many
    sends never completed), or when its thread finishes.
*/
class UringReaper : public QObject
{
    Q_OBJECT
public:
    /*! Takes \a ring; frees it at once if nothing is outstanding. */
    static void adopt(std::unique_ptr<UringRing> ring, int timeoutMs);
    /*! Reapers alive in the process (for tests and diagnostics). */
    static int liveCount();

    ~UringReaper() override;

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    UringReaper(std::unique_ptr<UringRing> ring, int timeoutMs);
    void onEventFd();

    std::unique_ptr<UringRing> m_ring;
    QSocketNotifier *m_notifier = nullptr;
    QBasicTimer m_timeout;
};

} // namespace Blight
