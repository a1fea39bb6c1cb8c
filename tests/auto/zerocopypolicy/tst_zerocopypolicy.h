// SPDX-License-Identifier: MIT
// The ZeroCopyPolicy test: enum names for QCOMPARE, helpers and the test class, in two files.
#pragma once

#include "zerocopypolicy_p.h"

#include <QtTest/QTest>

using namespace Blight;
using Mode = ZeroCopyPolicy::Mode;
using State = ZeroCopyPolicy::State;

// Names instead of QMetaEnum: BlightSocket's metaobject is not linked here.
namespace QTest {
template<> inline char *toString(const State &state)
{
    static const char *const names[] = {"Unsupported", "Disabled", "Active", "BackedOff", "Budget"};
    const int index = int(state);
    return qstrdup(index >= 0 && index < 5 ? names[index] : "invalid");
}
template<> inline char *toString(const Mode &mode)
{
    static const char *const names[] = {"Auto", "On", "Off"};
    const int index = int(mode);
    return qstrdup(index >= 0 && index < 3 ? names[index] : "invalid");
}
} // namespace QTest

namespace ZeroCopyPolicyTest {

// A policy for a TCP or UDP socket that accepted SO_ZEROCOPY, in \a mode.
inline ZeroCopyPolicy activePolicy(Mode mode = Mode::Auto)
{
    ZeroCopyPolicy policy;
    policy.setMode(mode);
    policy.detect(true, 0);
    policy.takeChange();
    return policy;
}

// Feeds COPIED completions of one send each until the policy backs off;
// returns the delay, or 0 if it did not within \a limit ranges.
inline int copyUntilBackOff(ZeroCopyPolicy &policy, quint32 *nextHi, int limit = 100)
{
    for (int i = 0; i < limit; ++i) {
        if (const int delay = policy.onCompletion(true, 1, (*nextHi)++))
            return delay;
    }
    return 0;
}

} // namespace ZeroCopyPolicyTest

using namespace ZeroCopyPolicyTest;

class tst_ZeroCopyPolicy : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initialState();
    void detect_data();
    void detect();
    void detectUsesModeSetBefore();
    void setModeTransitions_data();
    void setModeTransitions();
    void setModeWhileUnsupported();
    void setModeLeavesBackOff();
    void isActive_data();
    void isActive();
    void eligibility();
    void thresholdInReason();
    void budget();
    void budgetWhileNotActive();
    void budgetFreedWithoutWaiting();
    void autoBacksOff_data();
    void autoBacksOff();
    void notCopiedResetsCount();
    void emptyRangeCountsAsOne();
    void backOffDoubles_data();
    void backOffDoubles();
    void probeNotCopiedResetsDelay();
    void probeOnlyFromBackedOff();
    void rangeBeforeProbe_data();
    void rangeBeforeProbe();
    void modeOnNeverBacksOff();
    void modeOnReasonFollowsKernel();
    void modeOffIgnoresCompletions();
    void saturatingCopiedCount();
    void takeChange();
    void userLimitsSurvive();
    void limitsAtLeastOne();
    void mustWait_data();
    void mustWait();
    void budgetLeft_data();
    void budgetLeft();
    void noBuffersDelay();
    void restartClearsConnectionState();
    void settersClamp();
};
